package schemas

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a catalog file. LoadFS collects every problem
// of every file and returns them together (errors.Join, sorted by file, then
// position, then JSON path), so a catalog can be fixed in one pass; errors.As
// finds the individual problems.
type Problem struct {
	// File is the file's path relative to the catalog root, prefixed "catalog/".
	File string
	// Line and Col locate a JSON syntax error (1-based); zero otherwise.
	Line, Col int
	// Path is the JSON path of the offending value, e.g. "$.classes[3].patterns[1]";
	// empty for problems of the file as a whole (a stray file, a syntax error).
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error formats the problem as "file: path: msg" or "file:line:col: msg".
func (p *Problem) Error() string {
	switch {
	case p.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
	case p.Path == "":
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	default:
		return fmt.Sprintf("%s: %s: %s", p.File, p.Path, p.Msg)
	}
}

// problems collects the problems of a whole catalog load.
type problems struct {
	list []*Problem
}

// add records a problem at a JSON path of a file.
func (ps *problems) add(file, path, format string, args ...any) {
	ps.list = append(ps.list, &Problem{File: file, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// len reports how many problems were recorded so far.
func (ps *problems) len() int { return len(ps.list) }

// err returns nil or all problems sorted and joined under one summary line.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool {
		a, b := ps.list[i], ps.list[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if c := naturalCompare(a.Path, b.Path); c != 0 {
			return c < 0
		}
		return a.Msg < b.Msg
	})
	errs := make([]error, len(ps.list))
	for i, p := range ps.list {
		errs[i] = p
	}
	noun := "problems"
	if len(errs) == 1 {
		noun = "problem"
	}
	return fmt.Errorf("catalog has %d %s:\n%w", len(errs), noun, errors.Join(errs...))
}

// naturalCompare orders strings with embedded numbers numerically, so that
// $.classes[9] sorts before $.classes[10].
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		ra, rb := leadingRun(a), leadingRun(b)
		if isDigit(ra[0]) && isDigit(rb[0]) {
			na, _ := strconv.Atoi(ra)
			nb, _ := strconv.Atoi(rb)
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
		} else if ra != rb {
			return strings.Compare(ra, rb)
		}
		a, b = a[len(ra):], b[len(rb):]
	}
	return strings.Compare(a, b)
}

// leadingRun returns the longest non-empty prefix of s made only of digits or only of non-digits.
func leadingRun(s string) string {
	d := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == d {
		i++
	}
	return s[:i]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// jkey appends an object key to a JSON path, quoting keys that are not identifiers.
func jkey(path, key string) string {
	if identRe.MatchString(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// jidx appends an array index to a JSON path.
func jidx(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// lineCol turns a byte offset of data into a 1-based line and column.
func lineCol(data []byte, off int) (line, col int) {
	off = max(0, min(off, len(data)))
	head := data[:off]
	line = 1 + strings.Count(string(head), "\n")
	col = off - strings.LastIndexByte(string(head), '\n')
	return line, col
}
