package schemas

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// The fixture is the smallest valid catalog: one schema per complexity level,
// one 50-class taxonomy, two function domains and the irrelevant requests.
// Test cases break one thing in it and expect exactly that to be reported.

const simpleSchema = `{"id": "shop.contact", "domain": "shop", "title": "Contact", "complexity": "simple",
 "description": "A customer's contact details from an email signature.",
 "schema": {"type": "object", "additionalProperties": false, "required": ["name", "email"], "properties": {
  "name":  {"type": "string", "description": "Full name", "x-gen": "person_name"},
  "email": {"type": "string", "description": "Email address", "format": "email"},
  "phone": {"type": "string", "description": "Phone number", "format": "phone"},
  "vip":   {"type": "boolean", "description": "Whether the customer is a VIP"}}}}`

const mediumSchema = `{"id": "shop.order", "domain": "shop", "title": "Order", "complexity": "medium",
 "description": "An order confirmation email.",
 "schema": {"type": "object", "additionalProperties": false, "required": ["order_id"], "properties": {
  "order_id":  {"type": "string", "description": "Order number", "x-gen": "order_id"},
  "placed_at": {"type": "string", "description": "When the order was placed", "format": "date-time"},
  "status":    {"type": "string", "description": "Order status", "enum": ["open", "shipped"]},
  "total":     {"type": "number", "description": "Order total", "minimum": 0, "maximum": 10000},
  "customer":  {"type": "object", "description": "Who ordered", "additionalProperties": false, "properties": {
    "name":  {"type": "string", "description": "Customer name", "x-gen": "person_name"},
    "email": {"type": "string", "description": "Customer email", "format": "email"}}},
  "items": {"type": "array", "description": "Ordered items", "minItems": 1, "maxItems": 10, "items": {
    "type": "object", "additionalProperties": false, "required": ["sku"], "properties": {
    "sku": {"type": "string", "description": "Item SKU", "x-gen": "sku"},
    "qty": {"type": "integer", "description": "Quantity", "minimum": 1, "maximum": 99}}}}}}}`

const complexSchema = `{"id": "shop.invoice", "domain": "shop", "title": "Invoice", "complexity": "complex",
 "description": "A supplier invoice.",
 "schema": {"type": "object", "additionalProperties": false, "properties": {
  "invoice_id": {"type": "string", "description": "Invoice number", "pattern": "^INV-[0-9]{6}$"},
  "issued":     {"type": "string", "description": "Issue date", "format": "date"},
  "currency":   {"type": "string", "description": "Currency", "enum": ["EUR", "USD"]},
  "paid":       {"type": "boolean", "description": "Whether it is paid"},
  "seller": {"type": "object", "description": "Who sells", "additionalProperties": false, "properties": {
    "name": {"type": "string", "description": "Seller name", "x-gen": "company"},
    "address": {"type": "object", "description": "Seller address", "additionalProperties": false, "properties": {
      "street": {"type": "string", "description": "Street", "x-gen": "street_address"},
      "city":   {"type": "string", "description": "City", "x-gen": "city"},
      "geo": {"type": "object", "description": "Coordinates", "additionalProperties": false, "properties": {
        "lat": {"type": "number", "description": "Latitude", "minimum": -90, "maximum": 90},
        "lon": {"type": "number", "description": "Longitude", "minimum": -180, "maximum": 180}}}}}}},
  "lines": {"type": "array", "description": "Invoice lines", "maxItems": 20, "items": {
    "type": "object", "additionalProperties": false, "properties": {
    "text":   {"type": "string", "description": "Line text", "x-gen": "product_name"},
    "amount": {"type": "number", "description": "Line amount", "minimum": 0, "maximum": 1000}}}}}}}`

const lightsDomain = `{"domain": "lights", "description": "Smart lights.", "functions": [
 {"name": "lights_set", "description": "Set a room's lights.",
  "parameters": {"type": "object", "additionalProperties": false, "required": ["room"], "properties": {
   "room":       {"type": "string", "description": "Room", "x-gen": "room"},
   "brightness": {"type": "integer", "description": "Brightness in percent", "minimum": 0, "maximum": 100},
   "fade":       {"type": "number", "description": "Fade seconds", "minimum": 0, "maximum": 30},
   "on":         {"type": "boolean", "description": "Power"},
   "mode":       {"type": "string", "description": "Scene", "enum": ["reading", "movie"]}}},
  "patterns": ["set the {room} lights to {brightness} percent", "dim the {room} to {brightness} over {fade} seconds"],
  "mock": {"op": "upsert", "collection": "lights", "key": "room"}},
 {"name": "lights_schedule", "description": "Schedule lights.",
  "parameters": {"type": "object", "additionalProperties": false, "required": ["room", "at"], "properties": {
   "room": {"type": "string", "description": "Room", "x-gen": "room"},
   "at":   {"type": "string", "description": "When", "format": "date-time"},
   "days": {"type": "array", "description": "Repeat days", "maxItems": 7, "items": {"type": "string", "x-gen": "weekday"}},
   "location": {"type": "object", "description": "Where", "additionalProperties": false, "properties": {
     "building": {"type": "string", "description": "Building", "x-gen": "building"},
     "floor":    {"type": "integer", "description": "Floor", "minimum": 0, "maximum": 50}}}}},
  "patterns": ["turn on the {room} lights at {at}", "schedule the {room} lights in {location.building} for {at}"],
  "mock": {"op": "create", "collection": "schedules"}}]}`

const calendarDomain = `{"domain": "calendar", "description": "Calendar events.", "functions": [
 {"name": "calendar_delete_event", "description": "Delete an event.",
  "parameters": {"type": "object", "additionalProperties": false, "required": ["event_id"], "properties": {
   "event_id": {"type": "string", "description": "Event id", "x-gen": "id"}}},
  "patterns": ["delete event {event_id}", "cancel the event {event_id}"],
  "mock": {"op": "delete", "collection": "events", "key": "event_id"}},
 {"name": "calendar_list_events", "description": "List events.",
  "parameters": {"type": "object", "additionalProperties": false, "properties": {}},
  "patterns": ["what is on my calendar", "list my events"],
  "mock": {"op": "read", "collection": "events"}}]}`

// taxonomyFixture builds a valid 50-class taxonomy: class 0 has slots, the
// others are "intent_NN" with distinct patterns and descriptions.
func taxonomyFixture() map[string]any {
	classes := []any{map[string]any{
		"id": "weather_current", "description": "Asks about the weather now.",
		"slots": []any{
			map[string]any{"name": "city", "gen": "city"},
			map[string]any{"name": "day", "values": []any{"today", "tomorrow"}},
		},
		"patterns": []any{"what is the weather in {city}", "is it sunny in {city} {day}", "weather {day}"},
	}}
	for i := 1; i < 50; i++ {
		classes = append(classes, map[string]any{
			"id":          fmt.Sprintf("intent_%02d", i),
			"description": fmt.Sprintf("Requests for task %d.", i),
			"patterns": []any{
				fmt.Sprintf("please run task %d for me", i),
				fmt.Sprintf("start task %d", i),
				fmt.Sprintf("i need task %d done", i),
			},
		})
	}
	return map[string]any{"id": "assistant-50", "domain": "assistant", "description": "A tiny assistant.", "classes": classes}
}

// irrelevantFixture builds n distinct irrelevant requests.
func irrelevantFixture(n int) map[string]any {
	reqs := make([]any, n)
	for i := range reqs {
		reqs[i] = fmt.Sprintf("tell me joke number %d", i)
	}
	return map[string]any{"requests": reqs}
}

// fixture is a catalog under construction: JSON documents by path, plus raw
// files that are written as they are (syntax errors, stray files).
type fixture struct {
	t    *testing.T
	docs map[string]any
	raw  map[string]string
}

// newFixture returns the valid fixture catalog.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, docs: map[string]any{}, raw: map[string]string{}}
	for file, text := range map[string]string{
		"edgejson/shop.contact.json": simpleSchema,
		"edgejson/shop.order.json":   mediumSchema,
		"edgejson/shop.invoice.json": complexSchema,
		"edgefunccall/lights.json":   lightsDomain,
		"edgefunccall/calendar.json": calendarDomain,
	} {
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			t.Fatalf("fixture %s: %v", file, err)
		}
		f.docs[file] = v
	}
	f.docs["edgeintent/assistant-50.json"] = taxonomyFixture()
	f.docs["edgefunccall/irrelevant.json"] = irrelevantFixture(30)
	return f
}

// fs renders the fixture as a file system.
func (f *fixture) fs() fstest.MapFS {
	f.t.Helper()
	m := fstest.MapFS{}
	for file, v := range f.docs {
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			f.t.Fatalf("marshal %s: %v", file, err)
		}
		m[file] = &fstest.MapFile{Data: data}
	}
	for file, text := range f.raw {
		m[file] = &fstest.MapFile{Data: []byte(text)}
	}
	return m
}

// get returns the value at path (map keys as strings, array indexes as ints)
// in a fixture document; a path that does not exist fails the test, so a case
// cannot pass by editing nothing.
func (f *fixture) get(file string, path ...any) any {
	f.t.Helper()
	v, ok := f.docs[file]
	if !ok {
		f.t.Fatalf("fixture has no %s", file)
	}
	for i, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				f.t.Fatalf("%s %v: not an object", file, path[:i])
			}
			if v, ok = m[k]; !ok {
				f.t.Fatalf("%s %v: no key %q", file, path[:i], k)
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				f.t.Fatalf("%s %v: no index %d", file, path[:i], k)
			}
			v = a[k]
		}
	}
	return v
}

// set stores v at path, creating or replacing the last key or index.
func (f *fixture) set(file string, v any, path ...any) {
	f.t.Helper()
	parent := f.get(file, path[:len(path)-1]...)
	switch k := path[len(path)-1].(type) {
	case string:
		parent.(map[string]any)[k] = v
	case int:
		parent.([]any)[k] = v
	}
}

// del removes the key at path, which must exist.
func (f *fixture) del(file string, path ...any) {
	f.t.Helper()
	f.get(file, path...)
	delete(f.get(file, path[:len(path)-1]...).(map[string]any), path[len(path)-1].(string))
}

// problemsOf flattens an error tree into its catalog problems.
func problemsOf(err error) []*Problem {
	if p, ok := err.(*Problem); ok {
		return []*Problem{p}
	}
	var out []*Problem
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, problemsOf(e)...)
		}
	case interface{ Unwrap() error }:
		out = problemsOf(u.Unwrap())
	}
	return out
}

// findProblem returns the first problem whose text contains every want.
func findProblem(err error, wants ...string) *Problem {
	for _, p := range problemsOf(err) {
		text := p.Error()
		all := true
		for _, w := range wants {
			all = all && strings.Contains(text, w)
		}
		if all {
			return p
		}
	}
	return nil
}
