package worker

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// fatalEcho is the embedded server's logger with one change: Fatal, which the
// server calls on a condition it cannot run with (a port it cannot bind, a
// ring it cannot join) and which then exits the process, first writes one
// line to w. Without it `mlmforge dev` dies with exit status 1 and its reason
// only in the log file, or nowhere with the no-op logger.
type fatalEcho struct {
	log.Logger
	w    io.Writer
	tags []tag.Tag // those of With, which the wrapped logger may not print
}

// Fatal writes the message and its tags to w, then exits through the wrapped
// logger (or itself when that one returns, as the no-op logger does).
func (l fatalEcho) Fatal(msg string, tags ...tag.Tag) {
	fmt.Fprintln(l.w, fatalLine(msg, append(slices.Clip(l.tags), tags...)))
	l.Logger.Fatal(msg, tags...)
	os.Exit(1)
}

// With keeps the wrapped logger's tags and the echo.
func (l fatalEcho) With(tags ...tag.Tag) log.Logger {
	return fatalEcho{log.With(l.Logger, tags...), l.w, append(slices.Clip(l.tags), tags...)}
}

// fatalLine is the line Fatal writes.
func fatalLine(msg string, tags []tag.Tag) string {
	var b strings.Builder
	b.WriteString("mlmforge: embedded Temporal server: " + msg)
	for i, t := range tags {
		sep := ", "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(&b, "%s%s=%v", sep, t.Key(), t.Value())
	}
	if len(tags) > 0 {
		b.WriteString(")")
	}
	return b.String()
}
