package eval

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cyclecore/mlmforge/generator"
)

// Prompt-style function calls, as BFCL's prompting handlers decode them
// (default_decode_ast_prompting): the output is a Python list of calls,
// "[get_weather(city='Paris'), math.factorial(n=5)]", and the brackets may be
// left out. Arguments are keyword arguments with Python literals: strings in
// either quote, ints, floats, True/False/None, lists, tuples and dicts.

// pyCallStart matches text that starts like a prompt-style call.
var pyCallStart = regexp.MustCompile(`^\[?\s*[A-Za-z_][A-Za-z0-9_.]*\(`)

// looksLikePyCall reports whether s starts like a prompt-style call list.
func looksLikePyCall(s string) bool { return pyCallStart.MatchString(s) }

// parsePyCalls parses a prompt-style call list ("[f(a=1), g()]" or "f(a=1)").
// Numbers come back as json.Number, so 5 and 5.0 stay an int and a float.
func parsePyCalls(s string) ([]generator.Call, error) {
	p := &pyParser{s: strings.TrimSpace(s)}
	bracket := p.eat('[')
	var calls []generator.Call
	for {
		p.space()
		if p.done() || (bracket && p.peek() == ']') {
			break
		}
		c, err := p.call()
		if err != nil {
			return nil, err
		}
		calls = append(calls, c)
		p.space()
		if !p.eat(',') {
			break
		}
	}
	p.space()
	if bracket && !p.eat(']') {
		return nil, p.errorf("want ']' to close the call list")
	}
	p.space()
	if !p.done() {
		return nil, p.errorf("text after the call list")
	}
	return calls, nil
}

// pyParser is a cursor over prompt-style call text.
type pyParser struct {
	s   string
	pos int
}

func (p *pyParser) done() bool { return p.pos >= len(p.s) }

func (p *pyParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.pos]
}

func (p *pyParser) eat(b byte) bool {
	if p.peek() == b && !p.done() {
		p.pos++
		return true
	}
	return false
}

func (p *pyParser) space() {
	for !p.done() && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *pyParser) errorf(format string, args ...any) error {
	return fmt.Errorf("prompt-style call at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

// name reads a dotted identifier.
func (p *pyParser) name() string {
	start := p.pos
	for !p.done() {
		c := p.s[p.pos]
		if c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || (p.pos > start && c >= '0' && c <= '9') {
			p.pos++
			continue
		}
		break
	}
	return p.s[start:p.pos]
}

// call reads name(kw=value, ...).
func (p *pyParser) call() (generator.Call, error) {
	name := p.name()
	if name == "" {
		return generator.Call{}, p.errorf("want a function name")
	}
	p.space()
	if !p.eat('(') {
		return generator.Call{}, p.errorf("want '(' after %s", name)
	}
	args := map[string]any{}
	for {
		p.space()
		if p.eat(')') {
			return generator.Call{Name: name, Arguments: args}, nil
		}
		key := p.name()
		p.space()
		if key == "" || strings.Contains(key, ".") || !p.eat('=') {
			return generator.Call{}, p.errorf("%s: want keyword arguments (name=value)", name)
		}
		v, err := p.value()
		if err != nil {
			return generator.Call{}, err
		}
		if _, dup := args[key]; dup {
			return generator.Call{}, p.errorf("%s: argument %q given twice", name, key)
		}
		args[key] = v
		p.space()
		if !p.eat(',') && p.peek() != ')' {
			return generator.Call{}, p.errorf("%s: want ',' or ')'", name)
		}
	}
}

// value reads one Python literal.
func (p *pyParser) value() (any, error) {
	p.space()
	switch c := p.peek(); {
	case c == '\'' || c == '"':
		return p.str()
	case c == '[' || c == '(':
		return p.list(map[byte]byte{'[': ']', '(': ')'}[c])
	case c == '{':
		return p.dict()
	case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
		return p.number()
	}
	switch w := p.name(); w {
	case "True":
		return true, nil
	case "False":
		return false, nil
	case "None":
		return nil, nil
	default:
		return nil, p.errorf("unsupported value %q", w)
	}
}

// list reads [a, b] or (a, b) (a tuple is a list, as json.dumps writes it).
func (p *pyParser) list(closer byte) ([]any, error) {
	p.pos++
	out := []any{}
	for {
		p.space()
		if p.eat(closer) {
			return out, nil
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.space()
		if !p.eat(',') && p.peek() != closer {
			return nil, p.errorf("want ',' or %q in a list", closer)
		}
	}
}

// dict reads {key: value, ...} with string keys.
func (p *pyParser) dict() (map[string]any, error) {
	p.pos++
	out := map[string]any{}
	for {
		p.space()
		if p.eat('}') {
			return out, nil
		}
		k, err := p.value()
		if err != nil {
			return nil, err
		}
		key, ok := k.(string)
		if !ok {
			return nil, p.errorf("dict key %v is not a string", k)
		}
		p.space()
		if !p.eat(':') {
			return nil, p.errorf("want ':' after a dict key")
		}
		if out[key], err = p.value(); err != nil {
			return nil, err
		}
		p.space()
		if !p.eat(',') && p.peek() != '}' {
			return nil, p.errorf("want ',' or '}' in a dict")
		}
	}
}

// number reads an int or float literal as a json.Number with Python's
// int/float distinction ("5" an int, "5.0" and "5e0" floats).
func (p *pyParser) number() (any, error) {
	start := p.pos
	if p.peek() == '-' || p.peek() == '+' {
		p.pos++
	}
	for !p.done() && strings.IndexByte("0123456789.eE_+-", p.s[p.pos]) >= 0 {
		if (p.s[p.pos] == '+' || p.s[p.pos] == '-') && p.s[p.pos-1] != 'e' && p.s[p.pos-1] != 'E' {
			break
		}
		p.pos++
	}
	lit := strings.ReplaceAll(strings.TrimPrefix(p.s[start:p.pos], "+"), "_", "")
	if strings.HasPrefix(lit, ".") || strings.HasPrefix(lit, "-.") {
		lit = strings.Replace(lit, ".", "0.", 1)
	}
	if strings.HasSuffix(lit, ".") {
		lit += "0"
	}
	if _, err := strconv.ParseFloat(lit, 64); err != nil || !json.Valid([]byte(lit)) {
		return nil, p.errorf("bad number %q", p.s[start:p.pos])
	}
	return json.Number(lit), nil
}

// str reads a quoted string with Python's common escapes.
func (p *pyParser) str() (string, error) {
	q := p.s[p.pos]
	p.pos++
	var b strings.Builder
	for !p.done() {
		c := p.s[p.pos]
		switch {
		case c == q:
			p.pos++
			return b.String(), nil
		case c == '\\' && p.pos+1 < len(p.s):
			p.pos += 2
			switch e := p.s[p.pos-1]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'u':
				if p.pos+4 > len(p.s) {
					return "", p.errorf("short \\u escape")
				}
				r, err := strconv.ParseUint(p.s[p.pos:p.pos+4], 16, 32)
				if err != nil {
					return "", p.errorf("bad \\u escape")
				}
				b.WriteRune(rune(r))
				p.pos += 4
			default:
				b.WriteByte(e) // \\ \' \" and anything else stand for themselves
			}
		default:
			r, w := utf8.DecodeRuneInString(p.s[p.pos:])
			b.WriteRune(r)
			p.pos += w
		}
	}
	return "", p.errorf("unterminated string")
}
