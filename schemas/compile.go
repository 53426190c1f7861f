package schemas

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// newCompiler returns a draft 2020-12 compiler that asserts formats (so a
// generated "email" that is not an email fails validation) and knows "phone".
func newCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: "phone", Validate: validatePhone})
	// Texts say "07:30", not RFC 3339's "07:30:00Z": "time" accepts HH:MM and
	// HH:MM:SS, each with an optional fraction and offset.
	c.RegisterFormat(&jsonschema.Format{Name: "time", Validate: validateTime})
	c.UseLoader(noRemoteRefs{})
	return c
}

// noRemoteRefs refuses to load referenced documents: catalog schemas must be
// self-contained, and the compiler must never read the disk or the network.
type noRemoteRefs struct{}

// Load implements jsonschema.URLLoader.
func (noRemoteRefs) Load(url string) (any, error) {
	return nil, fmt.Errorf("load %s: catalog schemas must be self-contained ($ref only within the schema)", url)
}

// validatePhone accepts E.164 numbers and common national notations: digits,
// spaces, dashes, dots and parentheses, an optional leading "+", 7-15 digits.
func validatePhone(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return fmt.Errorf("phone number %q has the character %q", s, r)
		}
	}
	if digits < 7 || digits > 15 {
		return fmt.Errorf("phone number %q has %d digits, want 7-15", s, digits)
	}
	return nil
}

// timeLayouts are the accepted "time" formats, tried in order.
var timeLayouts = []string{"15:04", "15:04:05", "15:04:05.999999999", "15:04Z07:00", "15:04:05Z07:00", "15:04:05.999999999Z07:00"}

// validateTime accepts a time of day as HH:MM or HH:MM:SS with an optional
// fraction of a second and an optional offset (Z or +hh:mm).
func validateTime(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	for _, layout := range timeLayouts {
		// time.Parse takes "7:30" for "15:04"; the format wants two-digit hours.
		if _, err := time.Parse(layout, s); err == nil && len(s) >= 5 && s[2] == ':' {
			return nil
		}
	}
	return fmt.Errorf("time %q: want HH:MM or HH:MM:SS, optionally with an offset", s)
}

// compileIssue is one compile problem at a JSON path relative to the schema root.
type compileIssue struct {
	path string
	msg  string
}

var printer = message.NewPrinter(language.English)

// compile adds doc to c under url and compiles it. Metaschema violations are
// split into one issue per offending location.
func compile(c *jsonschema.Compiler, url string, doc any) (*jsonschema.Schema, []compileIssue) {
	if err := c.AddResource(url, doc); err != nil {
		return nil, []compileIssue{{"", fmt.Sprintf("add schema: %v", err)}}
	}
	sch, err := c.Compile(url)
	if err == nil {
		return sch, nil
	}
	var sve *jsonschema.SchemaValidationError
	var ve *jsonschema.ValidationError
	if !errors.As(err, &sve) || !errors.As(sve.Err, &ve) {
		return nil, []compileIssue{{"", fmt.Sprintf("does not compile: %s", strings.ReplaceAll(err.Error(), url, "schema"))}}
	}
	var issues []compileIssue
	seen := map[string]int{}
	for _, leaf := range leaves(ve) {
		p := ""
		for _, tok := range leaf.InstanceLocation {
			// Instance locations do not say array or object; digits are almost always an index.
			if n, err := strconv.Atoi(tok); err == nil && n >= 0 {
				p = jidx(p, n)
			} else {
				p = jkey(p, tok)
			}
		}
		msg := leaf.ErrorKind.LocalizedString(printer)
		if i, ok := seen[p]; ok {
			issues[i].msg += "; " + msg
			continue
		}
		seen[p] = len(issues)
		issues = append(issues, compileIssue{p, "not a valid JSON Schema (draft 2020-12): " + msg})
	}
	return nil, issues
}

// leaves returns the innermost causes of a validation error.
func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}
