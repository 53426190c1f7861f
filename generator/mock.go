package generator

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/cyclecore/mlmforge/generator/internal/callargs"
	"github.com/cyclecore/mlmforge/schemas"
)

// World is the stateful mock behind every catalog function (BFCL-style
// execution): named collections of records, each collection in insertion
// order. Executing the gold calls of a dialogue from an empty world must
// succeed, and the final state is the dialogue's gold state.
//
// The world is closed for the ids it hands out and open for everything else:
// a value of the form MockID(collection, n) can only come from an earlier
// create, so one that names no record is an error, while any other key
// ("kitchen", "SKU-4821", an opaque "evt_93") names a record that lives
// outside the mock. Upserting such a key creates the record; deleting one the
// world has never seen succeeds without changing anything, because single-turn
// requests ("cancel booking QX7-22") start from an empty world and are valid.
//
// A World is not safe for concurrent use.
type World struct {
	colls   map[string][]map[string]any
	creates map[string]int
}

// NewWorld returns an empty world.
func NewWorld() *World {
	return &World{colls: map[string][]map[string]any{}, creates: map[string]int{}}
}

// Execute validates call.Arguments against the function's parameters, then
// applies the function's mock operation and returns its result as JSON:
//
//	read    the records whose fields equal every argument the record has (an array, maybe empty)
//	create  {"id": MockID(collection, n)}; the record is the arguments plus "id"
//	upsert  the record after merging the arguments over it (created if absent)
//	delete  {"deleted": key value}
func (w *World) Execute(cat *schemas.Catalog, call Call) (json.RawMessage, error) {
	f, err := cat.Function(call.Name)
	if err != nil {
		return nil, err
	}
	args, err := callargs.Canonical(call.Arguments)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", call.Name, err)
	}
	sch, err := cat.CompiledParameters(call.Name)
	if err != nil {
		return nil, err
	}
	if err := sch.Validate(args); err != nil {
		return nil, fmt.Errorf("%s: %w", call.Name, callargs.DescribeArgError(err))
	}
	if err := w.checkRefs(cat, f.Mock, args); err != nil {
		return nil, fmt.Errorf("%s: %w", call.Name, err)
	}
	var res any
	switch m := f.Mock; m.Op {
	case schemas.MockRead:
		res = w.read(m.Collection, args)
	case schemas.MockCreate:
		res = w.create(m.Collection, args)
	case schemas.MockUpsert:
		res, err = w.upsert(cat, m, args)
	case schemas.MockDelete:
		res, err = w.delete(cat, m, args)
	default:
		err = fmt.Errorf("unknown mock op %q", m.Op)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", call.Name, err)
	}
	out, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("%s: encode result: %w", call.Name, err)
	}
	return out, nil
}

// State returns every non-empty collection as canonical JSON: object keys
// sorted at every level, records in insertion order.
func (w *World) State() json.RawMessage {
	state := map[string][]map[string]any{}
	for c, recs := range w.colls {
		if len(recs) > 0 {
			state[c] = recs
		}
	}
	b, err := json.Marshal(state)
	if err != nil {
		// Records hold only values decoded from JSON, which always encode.
		panic(fmt.Sprintf("encode mock state: %v", err))
	}
	return b
}

// ExecuteTarget runs every gold call of every turn in order from an empty
// world. results[i] holds the results of turn i's calls (empty for turns
// without calls); finalState is the world's State afterwards.
func ExecuteTarget(cat *schemas.Catalog, t FuncCallTarget) (finalState json.RawMessage, results [][]json.RawMessage, err error) {
	w := NewWorld()
	results = make([][]json.RawMessage, len(t.Turns))
	for i, turn := range t.Turns {
		for j, call := range turn.Calls {
			res, err := w.Execute(cat, call)
			if err != nil {
				return nil, nil, fmt.Errorf("turn %d call %d: %w", i+1, j+1, err)
			}
			results[i] = append(results[i], res)
		}
	}
	return w.State(), results, nil
}

// checkRefs fails when a top-level argument is a mock id that names no record:
// such ids only come from earlier creates, so a dangling one is a broken
// dialogue. The key of an upsert or delete is left to the operation, whose
// error names the key.
func (w *World) checkRefs(cat *schemas.Catalog, m schemas.Mock, args map[string]any) error {
	names := make([]string, 0, len(args))
	for k := range args {
		if k == m.Key && (m.Op == schemas.MockUpsert || m.Op == schemas.MockDelete) {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		c := callargs.MockIDCollection(cat, args[k])
		if c == "" {
			continue
		}
		if w.find(c, "id", args[k]) < 0 {
			return fmt.Errorf("argument %q: no %s record with id=%v", k, c, args[k])
		}
	}
	return nil
}

// find returns the index of the record of collection c whose field key (or,
// failing that, "id") equals v, or -1.
func (w *World) find(c, key string, v any) int {
	for i, rec := range w.colls[c] {
		if got, ok := rec[key]; ok && reflect.DeepEqual(got, v) {
			return i
		}
	}
	for i, rec := range w.colls[c] {
		if id, ok := rec["id"]; ok && reflect.DeepEqual(id, v) {
			return i
		}
	}
	return -1
}

// read returns the records of c that agree with every argument they have a
// field for. A mock id of c that names no field matches the record's "id"
// (calendar_get_event's event_id against a created event).
func (w *World) read(c string, args map[string]any) []map[string]any {
	out := []map[string]any{}
	for _, rec := range w.colls[c] {
		if recordMatches(rec, c, args) {
			out = append(out, rec)
		}
	}
	return out
}

// recordMatches is read's filter for one record.
func recordMatches(rec map[string]any, c string, args map[string]any) bool {
	for k, v := range args {
		if got, ok := rec[k]; ok {
			if !reflect.DeepEqual(got, v) {
				return false
			}
			continue
		}
		if s, ok := v.(string); ok && strings.HasPrefix(s, c+"_") && rec["id"] != s {
			return false
		}
	}
	return true
}

// create appends the arguments as a new record with the next mock id.
func (w *World) create(c string, args map[string]any) map[string]any {
	w.creates[c]++
	id := MockID(c, w.creates[c])
	args["id"] = id
	w.colls[c] = append(w.colls[c], args)
	return map[string]any{"id": id}
}

// upsert merges the arguments over the record m.Key names, or appends them
// as a new record. A mock id key that names no record is an error.
func (w *World) upsert(cat *schemas.Catalog, m schemas.Mock, args map[string]any) (map[string]any, error) {
	kv := args[m.Key]
	i := w.find(m.Collection, m.Key, kv)
	if i < 0 {
		if callargs.MockIDCollection(cat, kv) != "" {
			return nil, fmt.Errorf("no %s record with %s=%v", m.Collection, m.Key, kv)
		}
		w.colls[m.Collection] = append(w.colls[m.Collection], args)
		return args, nil
	}
	rec := w.colls[m.Collection][i]
	_, hasKey := rec[m.Key]
	for k, v := range args {
		if k == m.Key && !hasKey {
			continue // the record was found by its "id"; do not copy the id under a second name
		}
		rec[k] = mergeValue(rec[k], v)
	}
	return rec, nil
}

// mergeValue merges v over old: objects merge key by key, anything else is replaced.
func mergeValue(old, v any) any {
	om, ok1 := old.(map[string]any)
	nm, ok2 := v.(map[string]any)
	if !ok1 || !ok2 {
		return v
	}
	for k, x := range nm {
		om[k] = mergeValue(om[k], x)
	}
	return om
}

// delete removes the record m.Key names. A mock id that names no record is an
// error; any other unknown key is a record outside the mock (see World).
func (w *World) delete(cat *schemas.Catalog, m schemas.Mock, args map[string]any) (map[string]any, error) {
	kv := args[m.Key]
	i := w.find(m.Collection, m.Key, kv)
	if i < 0 {
		if callargs.MockIDCollection(cat, kv) != "" {
			return nil, fmt.Errorf("no %s record with %s=%v", m.Collection, m.Key, kv)
		}
		return map[string]any{"deleted": kv}, nil
	}
	recs := w.colls[m.Collection]
	w.colls[m.Collection] = append(recs[:i:i], recs[i+1:]...)
	return map[string]any{"deleted": kv}, nil
}
