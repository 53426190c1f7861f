package importer

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// BadRow is a source row an import skipped, with where it is and why.
type BadRow struct {
	// File is the file's name as in SourceFile.Name.
	File string `json:"file"`
	// Line is the 1-based line; Column the 1-based column in characters (0 when unknown).
	Line   int `json:"line"`
	Column int `json:"column,omitempty"`
	// Reason says what is wrong with the row.
	Reason string `json:"reason"`
}

// String formats the row as "file:line:col: reason" ("file: reason" for a
// file without lines, whose reason names the place).
func (b BadRow) String() string {
	switch {
	case b.Line <= 0:
		return fmt.Sprintf("%s: %s", b.File, b.Reason)
	case b.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", b.File, b.Line, b.Column, b.Reason)
	}
	return fmt.Sprintf("%s:%d: %s", b.File, b.Line, b.Reason)
}

// RowError is the error of one bad row: an import skips the row and records
// it (Dataset.BadRows), or with Strict stops at it.
type RowError struct {
	BadRow
}

func (e *RowError) Error() string { return e.BadRow.String() }

// rowErr builds a RowError; col is 0 when unknown.
func rowErr(file string, line, col int, format string, args ...any) *RowError {
	return &RowError{BadRow{File: file, Line: line, Column: col, Reason: fmt.Sprintf(format, args...)}}
}

// charColumn converts a 1-based byte column of text into a 1-based column
// in characters, so that a column points at the same place in an editor on
// lines with non-ASCII text.
func charColumn(text []byte, byteCol int) int {
	if byteCol <= 1 {
		return byteCol
	}
	if byteCol-1 > len(text) {
		return utf8.RuneCount(text) + (byteCol - 1 - len(text)) + 1
	}
	return utf8.RuneCount(text[:byteCol-1]) + 1
}

// lineIndex finds the text of a line of a file, for charColumn.
type lineIndex struct {
	data   []byte
	starts []int // byte offset of each line's start, built on first use
}

// line returns the text of 1-based line n (without its newline).
func (x *lineIndex) line(n int) []byte {
	if x.starts == nil {
		x.starts = []int{0}
		for i, c := range x.data {
			if c == '\n' {
				x.starts = append(x.starts, i+1)
			}
		}
	}
	if n < 1 || n > len(x.starts) {
		return nil
	}
	end := len(x.data)
	if n < len(x.starts) {
		end = x.starts[n] - 1
	}
	return x.data[x.starts[n-1]:end]
}

// skip handles a row-level error: with Strict it is returned (the import
// stops at the first bad row); else the row is recorded in Dataset.BadRows
// and nil is returned, and the import goes on. Errors that are not a
// *RowError (an unreadable file) are always returned.
func (b *builder) skip(err error) error {
	var re *RowError
	if err == nil || !errors.As(err, &re) || b.strict {
		return err
	}
	b.d.BadRows = append(b.d.BadRows, re.BadRow)
	return nil
}

// warn records a warning about the imported data (Dataset.Warnings).
func (b *builder) warn(format string, args ...any) {
	b.d.Warnings = append(b.d.Warnings, fmt.Sprintf(format, args...))
}
