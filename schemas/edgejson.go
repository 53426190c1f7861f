package schemas

// loadSchema loads one catalog/edgejson/*.json file: a JSONSchema.
func (l *loader) loadSchema(file string, data []byte) {
	doc, ok := parseJSON(&l.ps, file, data)
	var s JSONSchema
	if !ok || !decodeStrict(&l.ps, file, data, doc, &s) {
		return
	}
	s.File = file
	before := l.ps.len()
	l.checkSchemaMeta(file, &s)

	raw := doc.(map[string]any)["schema"]
	w := &schemaWalker{ps: &l.ps, file: file}
	w.root("$.schema", raw, false)
	root, isObj := raw.(map[string]any)
	if isObj {
		sh := measure(root)
		s.Fields, s.Nesting, s.HasArray = sh.fields, sh.nesting, sh.hasArray
		if _, known := complexityRules[s.Complexity]; known {
			if msg := checkComplexity(s.Complexity, sh); msg != "" {
				l.ps.add(file, "$.complexity", "%s", msg)
			}
		}
	}
	if !isObj {
		return
	}
	// Compile even when the walk found problems: all problems are reported at once.
	sch := l.compileInto(file, "$.schema", schemaURL(file), raw)
	if sch == nil || l.ps.len() > before {
		return
	}
	l.cat.Schemas = append(l.cat.Schemas, &s)
	l.cat.compiledSchemas[s.ID] = sch
}

// checkSchemaMeta checks an EdgeJSON file's metadata: id form and uniqueness,
// domain, required texts and the complexity level.
func (l *loader) checkSchemaMeta(file string, s *JSONSchema) {
	l.requireSnake(file, "$", "domain", s.Domain)
	l.requireText(file, "$", "title", s.Title)
	l.requireText(file, "$", "description", s.Description)
	if _, ok := complexityRules[s.Complexity]; !ok {
		l.ps.add(file, "$.complexity", "complexity %q must be simple, medium or complex", s.Complexity)
	}
	m := schemaIDRe.FindStringSubmatch(s.ID)
	switch {
	case s.ID == "":
		l.ps.add(file, "$.id", `"id" is required and must not be empty`)
	case m == nil:
		l.ps.add(file, "$.id", `schema id %q must be "<domain>.<name>", both lower snake case`, s.ID)
	case m[1] != s.Domain:
		l.ps.add(file, "$.id", "schema id %q must start with its domain %q", s.ID, s.Domain)
	}
	if m != nil && stem(file) != s.ID {
		l.ps.add(file, "$.id", "schema id %q must match the file name %q", s.ID, stem(file)+".json")
	}
	if prev, dup := l.schemaFiles[s.ID]; dup && s.ID != "" {
		l.ps.add(file, "$.id", "duplicate schema id %q (also in %s)", s.ID, prev)
	} else if s.ID != "" {
		l.schemaFiles[s.ID] = file
	}
}
