package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/cyclecore/mlmforge/worker"
	"github.com/cyclecore/mlmforge/workflows"
)

// runSchedule runs `mlmforge schedule ARGS...` in this process and returns
// stdout, stderr and the exit code, mapping errors the way main does. In
// process because a child per command (the race-built binary embeds the
// server) costs about a second, and the tests poll describe;
// TestScheduleRegistered checks the real binary.
func runSchedule(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newScheduleCmd(&app{home: t.TempDir(), out: &out, err: &errb})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	ctx, cancel := testContext(t)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return out.String(), errb.String(), 0
	}
	errb.WriteString("mlmforge: " + err.Error() + "\n")
	var ue *usageError
	if errors.As(err, &ue) {
		return out.String(), errb.String(), 2
	}
	return out.String(), errb.String(), 1
}

// mustSchedule runs a schedule command that has to succeed.
func mustSchedule(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runSchedule(t, args...)
	if code != 0 {
		t.Fatalf("schedule %v: exit %d\nstdout %s\nstderr %s", args, code, out, errOut)
	}
	return out
}

// describeJSON returns describe --json for a schedule.
func describeJSON(t *testing.T, addr, name string) scheduleView {
	t.Helper()
	var v scheduleView
	out := mustSchedule(t, "describe", name, "--json", "--address", addr)
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("describe --json: %v\n%s", err, out)
	}
	return v
}

// waitDescribe polls describe until ok accepts the view.
func waitDescribe(t *testing.T, addr, name string, timeout time.Duration, what string, ok func(scheduleView) bool) scheduleView {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v := describeJSON(t, addr, name)
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("schedule %s: no %s within %s: %+v", name, what, timeout, v)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// pipelineProgress queries a Pipeline workflow's progress.
func pipelineProgress(ctx context.Context, c client.Client, id string) (workflows.PipelineProgress, error) {
	var p workflows.PipelineProgress
	q, err := c.QueryWorkflow(ctx, id, "", workflows.PipelineProgressQuery)
	if err == nil {
		err = q.Get(&p)
	}
	return p, err
}

// writeSpec writes a pipeline spec whose dataset waits at the review gate
// (policy required, nobody reviews), so a run lasts until it is terminated.
func writeSpec(t *testing.T, name string, seed int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".yaml")
	spec := fmt.Sprintf(`name: %s
datasets:
  - spec: {task: edgeintent, variant: "50", counts: {train: 10, test: 5}, teacher: builtin, seed: %d}
review: {policy: required}
models:
  - {name: intent, task: edgeintent, train: {preset: tiny-intent, steps: 2}}
`, name, seed)
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startDev starts `mlmforge dev` on a free port and returns its address.
func startDev(t *testing.T) string {
	t.Helper()
	port := freeTCPPort(t)
	startCLI(t, "Ready.", "--home", t.TempDir(), "dev", "--review-listen", "", "--port", fmt.Sprint(port), "--ui-port", "-1")
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// TestScheduleSkipsOverlappingPipeline is the must-show: a schedule firing
// every 2s starts the real Pipeline workflow, whose dataset waits for
// reviewers; the next firings find it running and are skipped (overlap skip),
// so exactly one Pipeline runs.
func TestScheduleSkipsOverlappingPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server; skipped with -short")
	}
	addr := startDev(t)
	out := mustSchedule(t, "create", "--name", "often", "--every", "2s", "--spec", writeSpec(t, "often", 11), "--address", addr)
	if !strings.Contains(out, "Created schedule often (id pipeline-often): every 2s, overlap skip, active") {
		t.Errorf("create output:\n%s", out)
	}
	fired := waitDescribe(t, addr, "often", 2*time.Minute, "first action", func(v scheduleView) bool { return v.Actions >= 1 })
	v := waitDescribe(t, addr, "often", 2*time.Minute, "skipped firing", func(v scheduleView) bool { return v.OverlapSkipped >= 1 || v.Actions > 1 })
	if v.Actions != 1 || len(v.Running) != 1 || v.Running[0] != fired.Running[0] {
		t.Fatalf("after a skipped firing: %d actions, running %v (first run %v); want the one first run", v.Actions, v.Running, fired.Running)
	}
	if !strings.HasPrefix(v.Running[0], "pipeline-often-") || v.Overlap != "skip" {
		t.Errorf("running %v, overlap %q", v.Running, v.Overlap)
	}

	// The server agrees: one Pipeline workflow, running, its dataset step
	// waiting (the review gate holds it).
	c, err := worker.Dial(context.Background(), worker.DialConfig{Address: addr, Namespace: workflows.DefaultNamespace})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := testContext(t)
	defer cancel()
	list, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "WorkflowType = '" + workflows.PipelineWorkflowName + "'"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.Executions); n != 1 || list.Executions[0].Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING ||
		list.Executions[0].Execution.WorkflowId != v.Running[0] {
		t.Fatalf("Pipeline workflows on the server: %v", list.Executions)
	}
	// The run was started, but its first workflow task (which starts the
	// dataset step) may not have run yet on a busy machine: wait for the
	// step to show up as running rather than expect it at once.
	for {
		p, err := pipelineProgress(ctx, c, v.Running[0])
		if err == nil && len(p.Steps) > 0 && p.Steps[0].Name == "dataset edgeintent" && p.Steps[0].State == "running" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("pipeline progress %+v (err %v): want the dataset step running (at its review gate)", p.Steps, err)
		}
		time.Sleep(300 * time.Millisecond)
	}

	text := mustSchedule(t, "describe", "often", "--address", addr)
	for _, want := range []string{"Schedule  often (id pipeline-often)", "When      every 2s", "Overlap   skip",
		"State     active", "Actions   1 taken, ", "Running   1 " + v.Running[0],
		"Pipeline spec (from ", "name: often", "policy: required"} {
		if !strings.Contains(text, want) {
			t.Errorf("describe lacks %q:\n%s", want, text)
		}
	}
	// The skips go on counting between the two describes.
	if m := regexp.MustCompile(`Actions   1 taken, ([1-9]\d*) skipped \(overlap\)`).FindStringSubmatch(text); m == nil {
		t.Errorf("describe does not show the skipped firings:\n%s", text)
	}
	if out := mustSchedule(t, "delete", "often", "--address", addr); !strings.Contains(out, "Schedule often deleted") {
		t.Errorf("delete output %q", out)
	}
}

// TestScheduleCommands walks one schedule through every subcommand against a
// dev server, and checks the errors that need the server.
func TestScheduleCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server; skipped with -short")
	}
	addr := startDev(t)
	spec := writeSpec(t, "weekly-pipeline", 12)
	out := mustSchedule(t, "create", "--name", "weekly", "--cron", "0 3 * * 1", "--spec", spec, "--paused",
		"--catchup-window", "1h", "--address", addr)
	if !strings.Contains(out, `Created schedule weekly (id pipeline-weekly): cron "0 3 * * 1", overlap skip, paused`) {
		t.Errorf("create output:\n%s", out)
	}
	v := describeJSON(t, addr, "weekly")
	if !v.Paused || v.When != `cron "0 3 * * 1"` || v.CatchupWindow != "1h0m0s" || v.Actions != 0 || v.Pipeline == nil ||
		v.Pipeline.Name != "weekly-pipeline" || v.SpecFile != spec || len(v.Next) == 0 {
		t.Errorf("describe after create: %+v", v)
	}
	for _, next := range v.Next {
		if next.UTC().Weekday() != time.Monday || next.UTC().Hour() != 3 || next.UTC().Minute() != 0 {
			t.Errorf("next run %s is not a Monday 03:00 UTC", next)
		}
	}

	// ls reads the visibility store, which the server fills asynchronously.
	deadline := time.Now().Add(2 * time.Minute)
	for out = mustSchedule(t, "ls", "--address", addr); !strings.Contains(out, "weekly"); out = mustSchedule(t, "ls", "--address", addr) {
		if time.Now().After(deadline) {
			t.Fatalf("ls does not list the schedule:\n%s", out)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !strings.Contains(out, "NAME") || !strings.Contains(out, `weekly           cron "0 3 * * 1"`) {
		t.Errorf("ls output:\n%s", out)
	}

	for _, step := range []struct {
		op, want string
		paused   bool
	}{{"unpause", "Schedule weekly unpaused", false}, {"pause", "Schedule weekly paused", true}} {
		if out := mustSchedule(t, step.op, "weekly", "--address", addr); !strings.Contains(out, step.want) {
			t.Errorf("%s output %q", step.op, out)
		}
		if v := describeJSON(t, addr, "weekly"); v.Paused != step.paused {
			t.Errorf("after %s: paused = %v", step.op, v.Paused)
		}
	}

	// A paused schedule still runs what it is asked to run.
	if out := mustSchedule(t, "trigger", "weekly", "--address", addr); !strings.Contains(out, "Schedule weekly triggered") {
		t.Errorf("trigger output %q", out)
	}
	v = waitDescribe(t, addr, "weekly", 2*time.Minute, "triggered action", func(v scheduleView) bool { return v.Actions == 1 && len(v.Running) == 1 })
	if !strings.HasPrefix(v.Running[0], "pipeline-weekly-") || len(v.Recent) != 1 {
		t.Errorf("after trigger: %+v", v)
	}
	// Two Mondays in the range; the first run is still going, so with the
	// schedule's overlap skip both are skipped, with allow_all both would start.
	out = mustSchedule(t, "backfill", "weekly", "--from", "2024-01-01", "--to", "2024-01-09", "--address", addr)
	if !strings.Contains(out, "Backfilling schedule weekly from 2024-01-01 00:00:00Z to 2024-01-09 00:00:00Z") {
		t.Errorf("backfill output %q", out)
	}
	v = waitDescribe(t, addr, "weekly", 2*time.Minute, "backfilled firings", func(v scheduleView) bool { return v.OverlapSkipped == 2 })
	if v.Actions != 1 {
		t.Errorf("backfill with overlap skip started runs: %+v", v)
	}

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"duplicate", []string{"create", "--name", "weekly", "--every", "1h", "--spec", spec}, 1, `schedule "weekly" already exists`},
		{"bad cron", []string{"create", "--name", "bad", "--cron", "61 * * * *", "--spec", spec}, 2, `--cron "61 * * * *": Invalid schedule spec: Minute is not in range [0-59]`},
		{"bad time zone", []string{"create", "--name", "bad", "--cron", "0 3 * * 1", "--time-zone", "Mars/Olympus", "--spec", spec}, 2, `--time-zone "Mars/Olympus": `},
		{"unknown describe", []string{"describe", "nope"}, 1, `schedule "nope" not found (id pipeline-nope)`},
		{"unknown pause", []string{"pause", "nope"}, 1, `schedule "nope" not found`},
		{"unknown trigger", []string{"trigger", "nope"}, 1, `schedule "nope" not found`},
		{"unknown backfill", []string{"backfill", "nope", "--from", "2024-01-01", "--to", "2024-02-01"}, 1, `schedule "nope" not found`},
	} {
		t.Run(tt.name, func(t *testing.T) { checkScheduleError(t, append(tt.args, "--address", addr), tt.code, tt.want) })
	}

	if out := mustSchedule(t, "delete", "weekly", "--address", addr); !strings.Contains(out, "Schedule weekly deleted") {
		t.Errorf("delete output %q", out)
	}
	checkScheduleError(t, []string{"delete", "weekly", "--address", addr}, 1, `schedule "weekly" not found`)
}

// checkScheduleError runs a failing schedule command and checks its exit code
// and its one-line message.
func checkScheduleError(t *testing.T, args []string, code int, want string) {
	t.Helper()
	out, errOut, got := runSchedule(t, args...)
	if got != code {
		t.Errorf("%v: exit %d, want %d (stdout %q, stderr %q)", args, got, code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "mlmforge: ") || !strings.Contains(lines[0], want) {
		t.Errorf("%v: stderr %q, want one line 'mlmforge: ...%s...'", args, errOut, want)
	}
}

// TestScheduleUsageErrors checks the mistakes caught before any server is
// contacted (127.0.0.1:1 has none).
func TestScheduleUsageErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeSpec(t, "p", 1)
	misspelt := filepath.Join(dir, "misspelt.yaml")
	spec, _ := os.ReadFile(good)
	if err := os.WriteFile(misspelt, bytes.Replace(spec, []byte("policy:"), []byte("polcy:"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	noAddr := "--address is required: schedules live in a running server (start 'mlmforge dev' and pass --address 127.0.0.1:7233)"
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no address", []string{"ls"}, 2, noAddr},
		{"no address describe", []string{"describe", "x"}, 2, noAddr},
		{"no address create", []string{"create", "--name", "x", "--every", "1h", "--spec", good}, 2, noAddr},
		{"missing spec", []string{"create", "--name", "x", "--cron", "0 3 * * 1"}, 2, "--spec is required"},
		{"missing name", []string{"create", "--cron", "0 3 * * 1", "--spec", good}, 2, "--name is required"},
		{"bad name", []string{"create", "--name", "Weekly!", "--cron", "0 3 * * 1", "--spec", good}, 2, `--name "Weekly!"`},
		{"no when", []string{"create", "--name", "x", "--spec", good}, 2, "give --cron or --every"},
		{"cron and every", []string{"create", "--name", "x", "--cron", "0 3 * * 1", "--every", "1h", "--spec", good}, 2, "not both"},
		{"every too short", []string{"create", "--name", "x", "--every", "500ms", "--spec", good}, 2, "--every 500ms: must be at least 1s"},
		{"bad overlap", []string{"create", "--name", "x", "--every", "1h", "--overlap", "queue", "--spec", good}, 2, `--overlap "queue": want one of skip, buffer_one`},
		{"misspelt spec field", []string{"create", "--name", "x", "--every", "1h", "--spec", misspelt}, 1,
			"pipeline spec " + misspelt + `: unknown field "review.polcy" (did you mean "policy"?)`},
		{"missing spec file", []string{"create", "--name", "x", "--every", "1h", "--spec", filepath.Join(dir, "none.yaml")}, 1, "none.yaml: no such file"},
		{"bad duration flag", []string{"create", "--name", "x", "--every", "weekly", "--spec", good}, 2, `invalid argument "weekly" for "--every"`},
		{"backfill no from", []string{"backfill", "x", "--to", "2024-01-01"}, 2, "--from is required"},
		{"backfill bad time", []string{"backfill", "x", "--from", "yesterday", "--to", "2024-01-01"}, 2, `--from "yesterday": want an RFC 3339 time`},
		{"backfill reversed", []string{"backfill", "x", "--from", "2024-02-01", "--to", "2024-01-01"}, 2, "is not after --from"},
		{"trigger bad overlap", []string{"trigger", "x", "--overlap", "nope"}, 2, `--overlap "nope"`},
		{"extra args", []string{"describe", "a", "b"}, 2, "accepts 1 arg(s)"},
		{"unreachable", []string{"ls", "--address", "127.0.0.1:1"}, 1, "connect to Temporal at 127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if !strings.HasPrefix(tt.name, "no address") && tt.name != "unreachable" {
				args = append(args, "--address", "127.0.0.1:1")
			}
			checkScheduleError(t, args, tt.code, tt.want)
		})
	}
}

// TestScheduleRegistered runs the real binary: root.go wires the command, and
// main turns its errors into one line and exit code 2 for usage errors.
func TestScheduleRegistered(t *testing.T) {
	if c, _, err := newRootCmd(io.Discard, io.Discard).Find([]string{"schedule"}); err != nil || c.Name() != "schedule" {
		t.Fatalf("the root command has no schedule subcommand (%v): root.go must register newScheduleCmd", err)
	}
	out, errOut, code := runCLI(t, "--home", t.TempDir(), "schedule", "--help")
	for _, sub := range []string{"create", "ls", "describe", "pause", "unpause", "trigger", "delete", "backfill"} {
		if code != 0 || !strings.Contains(out, "  "+sub+" ") {
			t.Errorf("schedule --help (exit %d) lacks %s:\n%s%s", code, sub, out, errOut)
		}
	}
	out, errOut, code = runCLI(t, "--home", t.TempDir(), "schedule", "ls")
	if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "mlmforge: schedule: --address is required") {
		t.Errorf("schedule ls without --address: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
