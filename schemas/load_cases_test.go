package schemas

import "fmt"

var intentCases = []loadCase{
	{"wrong class count", func(f *fixture) {
		f.set(taxFile, f.get(taxFile, "classes").([]any)[:49], "classes")
	}, []string{"catalog/edgeintent/assistant-50.json: $.classes:", `taxonomy "assistant-50" needs exactly 50 classes, has 49`}},
	{"size not in 50/100/200", func(f *fixture) {
		delete(f.docs, taxFile)
		tx := taxonomyFixture()
		tx["id"] = "assistant-60"
		f.docs["edgeintent/assistant-60.json"] = tx
	}, []string{"catalog/edgeintent/assistant-60.json: $.id:", `taxonomy id "assistant-60" must be "<domain>-<N>" with N one of 50, 100, 200`}},
	{"id does not match file name", func(f *fixture) { f.set(taxFile, "office", "domain"); f.set(taxFile, "office-50", "id") },
		[]string{"catalog/edgeintent/assistant-50.json: $.id:", `taxonomy id "office-50" must match the file name "assistant-50.json"`}},
	{"two taxonomies of one size", func(f *fixture) {
		tx := taxonomyFixture()
		tx["id"], tx["domain"] = "office-50", "office"
		f.docs["edgeintent/office-50.json"] = tx
	}, []string{"catalog/edgeintent/office-50.json: $.id:", "a taxonomy of 50 classes is already defined in catalog/edgeintent/assistant-50.json"}},
	{"case-mismatched key", func(f *fixture) {
		c := f.get(taxFile, "classes", 3).(map[string]any)
		c["ID"] = c["id"]
		delete(c, "id")
	}, []string{"catalog/edgeintent/assistant-50.json: $.classes[3].ID:", `unknown key "ID" (keys are case-sensitive: did you mean "id"?)`}},
	{"duplicate class id", func(f *fixture) { f.set(taxFile, "intent_01", "classes", 2, "id") },
		[]string{"catalog/edgeintent/assistant-50.json: $.classes[2].id:", `duplicate class id "intent_01" (also $.classes[1])`}},
	{"class id not snake case", func(f *fixture) { f.set(taxFile, "Weather Now", "classes", 0, "id") },
		[]string{"catalog/edgeintent/assistant-50.json: $.classes[0].id:", `id "Weather Now" must be lower snake case`}},
	{"duplicate class description", func(f *fixture) { f.set(taxFile, "requests for  TASK 1.", "classes", 4, "description") },
		[]string{"catalog/edgeintent/assistant-50.json: $.classes[4].description:", `class "intent_04" has the same description as class "intent_01"`}},
	{"too few patterns", func(f *fixture) { f.set(taxFile, []any{"start task 7", "run task 7"}, "classes", 7, "patterns") },
		[]string{"catalog/edgeintent/assistant-50.json: $.classes[7].patterns:", `class "intent_07" needs at least 3 patterns, has 2`}},
	{"pattern with undeclared slot", func(f *fixture) { f.set(taxFile, "weather in {cty}", "classes", 0, "patterns", 1) },
		[]string{"catalog/edgeintent/assistant-50.json: $.classes[0].patterns[1]:", `placeholder {cty} is not a slot of class "weather_current" (slots: city, day)`}},
	{"unbalanced brace", func(f *fixture) { f.set(taxFile, "weather in {city", "classes", 0, "patterns", 1) },
		[]string{"catalog/edgeintent/assistant-50.json: $.classes[0].patterns[1]:", `without a matching`}},
	{"slot with both gen and values", func(f *fixture) { f.set(taxFile, []any{"paris"}, "classes", 0, "slots", 0, "values") },
		[]string{"catalog/edgeintent/assistant-50.json: $.classes[0].slots[0]:", `slot "city" has both "gen" and "values"`}},
	{"slot with neither gen nor values", func(f *fixture) { f.del(taxFile, "classes", 0, "slots", 0, "gen") },
		[]string{"catalog/edgeintent/assistant-50.json: $.classes[0].slots[0]:", `slot "city" needs "gen"`}},
	{"slot with unknown generator", func(f *fixture) { f.set(taxFile, "town", "classes", 0, "slots", 0, "gen") },
		[]string{"catalog/edgeintent/assistant-50.json: $.classes[0].slots[0].gen:", `unknown generator "town" (see schemas/generators.go)`}},
	{"slot declared twice", func(f *fixture) {
		slots := append(f.get(taxFile, "classes", 0, "slots").([]any), map[string]any{"name": "city", "gen": "country"})
		f.set(taxFile, slots, "classes", 0, "slots")
	}, []string{"catalog/edgeintent/assistant-50.json: $.classes[0].slots[2]:", `slot "city" is declared twice in class "weather_current"`}},
	{"duplicate pattern across classes", func(f *fixture) { f.set(taxFile, "Please run   TASK 3 for me?", "classes", 7, "patterns", 1) },
		[]string{"catalog/edgeintent/assistant-50.json: $.classes[7].patterns[1]:", `same as $.classes[3].patterns[0] of class "intent_03": classes "intent_03" and "intent_07" cannot be distinguished`}},
	{"duplicate pattern through slots of the same generator", func(f *fixture) {
		f.set(taxFile, []any{map[string]any{"name": "town", "gen": "city"}}, "classes", 9, "slots")
		f.set(taxFile, "What is the weather in {town}", "classes", 9, "patterns", 2)
	}, []string{"catalog/edgeintent/assistant-50.json: $.classes[9].patterns[2]:", `classes "weather_current" and "intent_09" cannot be distinguished`}},
	{"duplicate pattern within a class", func(f *fixture) { f.set(taxFile, "start task 5", "classes", 5, "patterns", 2) },
		[]string{"catalog/edgeintent/assistant-50.json: $.classes[5].patterns[2]:", "repeats $.classes[5].patterns[1] of the same class"}},
}

var funcCases = []loadCase{
	{"function pattern with unknown parameter", func(f *fixture) { f.set(lightsFile, "set the {rooom} lights", "functions", 0, "patterns", 0) },
		[]string{"catalog/edgefunccall/lights.json: $.functions[0].patterns[0]:", `placeholder {rooom} is not a parameter of function "lights_set" (parameters: brightness, fade, mode, on, room)`}},
	{"function pattern with unknown nested parameter", func(f *fixture) {
		f.set(lightsFile, "lights in {location.wing}", "functions", 1, "patterns", 1)
	}, []string{"catalog/edgefunccall/lights.json: $.functions[1].patterns[1]:", `placeholder {location.wing} is not a parameter`, "location.building"}},
	{"too few function patterns", func(f *fixture) { f.set(calendarFile, []any{"list my events"}, "functions", 1, "patterns") },
		[]string{"catalog/edgefunccall/calendar.json: $.functions[1].patterns:", `function "calendar_list_events" needs at least 2 patterns, has 1`}},
	{"bad mock op", func(f *fixture) { f.set(lightsFile, "update", "functions", 0, "mock", "op") },
		[]string{"catalog/edgefunccall/lights.json: $.functions[0].mock.op:", `mock op "update" must be one of read, create, upsert, delete`}},
	{"empty mock collection", func(f *fixture) { f.set(lightsFile, "", "functions", 1, "mock", "collection") },
		[]string{"catalog/edgefunccall/lights.json: $.functions[1].mock.collection:", `"collection" is required`}},
	{"upsert without key", func(f *fixture) { f.del(lightsFile, "functions", 0, "mock", "key") },
		[]string{"catalog/edgefunccall/lights.json: $.functions[0].mock:", `mock op "upsert" needs "key"`}},
	{"mock key not required", func(f *fixture) { f.set(lightsFile, "brightness", "functions", 0, "mock", "key") },
		[]string{"catalog/edgefunccall/lights.json: $.functions[0].mock.key:", `mock key "brightness" must be listed in the parameters' "required"`}},
	{"mock key not a parameter", func(f *fixture) { f.set(calendarFile, "id", "functions", 0, "mock", "key") },
		[]string{"catalog/edgefunccall/calendar.json: $.functions[0].mock.key:", `mock key "id" is not a top-level parameter of function "calendar_delete_event" (parameters: event_id)`}},
	{"duplicate function name across files", func(f *fixture) { f.set(calendarFile, "lights_set", "functions", 0, "name") },
		[]string{"catalog/edgefunccall/lights.json: $.functions[0].name:", `function name "lights_set" is already used in catalog/edgefunccall/calendar.json $.functions[0]`}},
	{"function name not snake case", func(f *fixture) { f.set(lightsFile, "lightsSet", "functions", 0, "name") },
		[]string{"catalog/edgefunccall/lights.json: $.functions[0].name:", `name "lightsSet" must be lower snake case`}},
	{"domain does not match file name", func(f *fixture) { f.set(lightsFile, "lighting", "domain") },
		[]string{"catalog/edgefunccall/lights.json: $.domain:", `domain "lighting" must match the file name "lights.json"`}},
	{"parameters not an object schema", func(f *fixture) { f.set(calendarFile, "string", "functions", 0, "parameters", "type") },
		[]string{"catalog/edgefunccall/calendar.json: $.functions[0].parameters:", `root schema must have "type": "object"`}},
	{"parameter without description", func(f *fixture) {
		f.del(lightsFile, "functions", 1, "parameters", "properties", "location", "properties", "floor", "description")
	}, []string{"catalog/edgefunccall/lights.json: $.functions[1].parameters.properties.location.properties.floor:", `property "floor" needs a non-empty "description"`}},
	{"parameter schema does not compile", func(f *fixture) {
		f.set(lightsFile, "many", "functions", 1, "parameters", "properties", "days", "maxItems")
	},
		[]string{"catalog/edgefunccall/lights.json: $.functions[1].parameters.properties.days.maxItems:", "not a valid JSON Schema"}},
	{"unknown key in mock", func(f *fixture) { f.set(lightsFile, 60, "functions", 0, "mock", "ttl") },
		[]string{"catalog/edgefunccall/lights.json: $.functions[0].mock.ttl:", `unknown key "ttl" (allowed: collection, key, op)`}},
	{"too few irrelevant requests", func(f *fixture) { f.docs[irrFile] = irrelevantFixture(29) },
		[]string{"catalog/edgefunccall/irrelevant.json: $.requests:", "needs at least 30 unique requests, has 29"}},
	{"duplicate irrelevant request", func(f *fixture) {
		f.set(irrFile, fmt.Sprintf("Tell me joke number %d.", 3), "requests", 12)
	}, []string{"catalog/edgefunccall/irrelevant.json: $.requests[12]:", "repeats $.requests[3]"}},
}
