package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"sigs.k8s.io/yaml"

	"github.com/cyclecore/mlmforge/workflows"
)

func newScheduleLsCmd(a *app, cf *clusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List pipeline schedules",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSchedules(cmd.Context(), cf, func(sc client.ScheduleClient) error {
				return listSchedules(cmd.Context(), a.out, sc)
			})
		},
	}
}

func listSchedules(ctx context.Context, out io.Writer, sc client.ScheduleClient) error {
	it, err := sc.List(ctx, client.ScheduleListOptions{})
	if err != nil {
		return fmt.Errorf("list schedules: %w", err)
	}
	n := 0
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return fmt.Errorf("list schedules: %w", err)
		}
		name, ok := strings.CutPrefix(e.ID, schedulePrefix)
		if !ok {
			continue // not a pipeline schedule
		}
		if n == 0 {
			fmt.Fprintf(out, "%-16s %-22s %-7s %-21s %s\n", "NAME", "WHEN", "STATE", "NEXT RUN", "LAST RUN")
		}
		n++
		state, next, last := "active", "-", "-"
		if e.Paused {
			state = "paused"
		} else if len(e.NextActionTimes) > 0 {
			next = formatScheduleTime(e.NextActionTimes[0])
		}
		if k := len(e.RecentActions); k > 0 {
			last = formatScheduleTime(e.RecentActions[k-1].ActualTime)
		}
		fmt.Fprintf(out, "%-16s %-22s %-7s %-21s %s\n", name, whenOf(e.Memo, e.Spec), state, next, last)
	}
	if n == 0 {
		fmt.Fprintln(out, "No pipeline schedules. Create one with: mlmforge schedule create --name NAME --cron EXPR --spec FILE --address HOST:PORT")
	}
	return nil
}

// readMemo decodes the memo that create wrote; ok is false for schedules made
// by other tools.
func readMemo(memo *commonpb.Memo) (m scheduleMemo, ok bool) {
	p := memo.GetFields()[scheduleMemoKey]
	return m, p != nil && converter.GetDefaultDataConverter().FromPayload(p, &m) == nil && m.When != ""
}

// whenOf is the schedule as the user gave it (from the memo), else as the
// server describes it.
func whenOf(memo *commonpb.Memo, spec *client.ScheduleSpec) string {
	if m, ok := readMemo(memo); ok {
		return m.When
	}
	if spec != nil && len(spec.Intervals) > 0 {
		return "every " + spec.Intervals[0].Every.String()
	}
	if spec != nil && len(spec.Calendars) > 0 {
		return fmt.Sprintf("%d calendar spec(s)", len(spec.Calendars))
	}
	return "-"
}

func formatScheduleTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// specYAML renders a pipeline spec as indented YAML for describe, without
// the fields left at zero (the defaults apply to them).
func specYAML(s *workflows.PipelineSpec) string {
	var doc any
	b, err := json.Marshal(s)
	if err == nil {
		err = json.Unmarshal(b, &doc)
	}
	if err == nil {
		b, err = yaml.Marshal(dropZero(doc))
	}
	if err != nil {
		return "  (cannot render: " + err.Error() + ")\n"
	}
	var sb strings.Builder
	for l := range strings.Lines(string(b)) {
		sb.WriteString("  " + l)
	}
	return sb.String()
}

// dropZero removes zero values (0, "", false, empty) from decoded JSON.
func dropZero(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e = dropZero(e); e == nil {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		if len(x) == 0 {
			return nil
		}
		for i, e := range x {
			if m, ok := e.(map[string]any); ok { // a 0 in a list (shots: [0, 5]) is a value
				x[i] = dropZero(m)
			}
		}
	case string, float64, bool:
		if x == "" || x == 0.0 || x == false {
			return nil
		}
	}
	return v
}

// scheduleView is what describe shows, and prints with --json.
type scheduleView struct {
	Name           string   `json:"name"`
	ID             string   `json:"id"`
	When           string   `json:"when"`
	SpecFile       string   `json:"spec_file,omitempty"`
	Overlap        string   `json:"overlap"`
	CatchupWindow  string   `json:"catchup_window"`
	Jitter         string   `json:"jitter"`
	Paused         bool     `json:"paused"`
	Note           string   `json:"note,omitempty"`
	Actions        int      `json:"actions"`
	OverlapSkipped int      `json:"overlap_skipped"`
	MissedCatchup  int      `json:"missed_catchup_window"`
	Running        []string `json:"running"`
	// Recent are the last actions: "scheduled-time workflow-id", oldest first.
	Recent   []string                `json:"recent"`
	Next     []time.Time             `json:"next"`
	Pipeline *workflows.PipelineSpec `json:"pipeline,omitempty"`
}

func newScheduleDescribeCmd(a *app, cf *clusterFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a schedule: when, overlap policy, actions taken and skipped, running and next runs, the spec",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSchedules(cmd.Context(), cf, func(sc client.ScheduleClient) error {
				v, err := describeSchedule(cmd.Context(), sc, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(a, v)
				}
				printScheduleView(a.out, v)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func describeSchedule(ctx context.Context, sc client.ScheduleClient, name string) (scheduleView, error) {
	v := scheduleView{Name: name, ID: schedulePrefix + name, Running: []string{}, Recent: []string{}, Next: []time.Time{}}
	d, err := sc.GetHandle(ctx, v.ID).Describe(ctx)
	if err != nil {
		return v, scheduleErr("describe", name, err)
	}
	v.When = whenOf(d.Memo, d.Schedule.Spec)
	if m, ok := readMemo(d.Memo); ok {
		v.SpecFile = m.SpecFile
	}
	if s := d.Schedule.Spec; s != nil {
		v.Jitter = s.Jitter.String()
		if s.TimeZoneName != "" {
			v.When += " (" + s.TimeZoneName + ")"
		}
	}
	if p := d.Schedule.Policy; p != nil {
		v.Overlap, v.CatchupWindow = overlapName(p.Overlap), p.CatchupWindow.String()
	}
	if s := d.Schedule.State; s != nil {
		v.Paused, v.Note = s.Paused, s.Note
	}
	v.Actions, v.OverlapSkipped, v.MissedCatchup = d.Info.NumActions, d.Info.NumActionsSkippedOverlap, d.Info.NumActionsMissedCatchupWindow
	for _, r := range d.Info.RunningWorkflows {
		v.Running = append(v.Running, r.WorkflowID)
	}
	for _, r := range d.Info.RecentActions {
		id := "-"
		if r.StartWorkflowResult != nil {
			id = r.StartWorkflowResult.WorkflowID
		}
		v.Recent = append(v.Recent, formatScheduleTime(r.ScheduleTime)+" "+id)
	}
	v.Next = append(v.Next, d.Info.NextActionTimes...)
	if act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); ok && len(act.Args) == 1 {
		var spec workflows.PipelineSpec
		if p, ok := act.Args[0].(*commonpb.Payload); ok && converter.GetDefaultDataConverter().FromPayload(p, &spec) == nil {
			v.Pipeline = &spec
		}
	}
	return v, nil
}

func printScheduleView(out io.Writer, v scheduleView) {
	state := "active"
	if v.Paused {
		state = "paused"
	}
	if v.Note != "" {
		state += " (" + v.Note + ")"
	}
	fmt.Fprintf(out, "Schedule  %s (id %s)\nWhen      %s, jitter %s\nOverlap   %s, catch-up window %s\nState     %s\n",
		v.Name, v.ID, v.When, v.Jitter, v.Overlap, v.CatchupWindow, state)
	fmt.Fprintf(out, "Actions   %d taken, %d skipped (overlap), %d missed (catch-up window)\n", v.Actions, v.OverlapSkipped, v.MissedCatchup)
	fmt.Fprintf(out, "Running   %s\n", strings.Join(append([]string{fmt.Sprint(len(v.Running))}, v.Running...), " "))
	for _, r := range v.Recent {
		fmt.Fprintf(out, "Recent    %s\n", r)
	}
	next := make([]string, 0, 3)
	for _, t := range v.Next[:min(3, len(v.Next))] {
		next = append(next, formatScheduleTime(t))
	}
	if v.Paused || len(next) == 0 {
		next = []string{"-"}
	}
	fmt.Fprintf(out, "Next      %s\n", strings.Join(next, ", "))
	if v.Pipeline != nil {
		from := ""
		if v.SpecFile != "" {
			from = " (from " + v.SpecFile + " at create time)"
		}
		fmt.Fprintf(out, "Pipeline spec%s:\n%s", from, specYAML(v.Pipeline))
	}
}

// scheduleOp is a subcommand that acts on one schedule by name.
type scheduleOp struct {
	use, short, done string
	act              func(ctx context.Context, h client.ScheduleHandle, overlap enumspb.ScheduleOverlapPolicy) error
}

var scheduleOps = []scheduleOp{
	{"pause", "Pause a schedule (running pipelines go on)", "paused",
		func(ctx context.Context, h client.ScheduleHandle, _ enumspb.ScheduleOverlapPolicy) error {
			return h.Pause(ctx, client.SchedulePauseOptions{})
		}},
	{"unpause", "Resume a paused schedule", "unpaused",
		func(ctx context.Context, h client.ScheduleHandle, _ enumspb.ScheduleOverlapPolicy) error {
			return h.Unpause(ctx, client.ScheduleUnpauseOptions{})
		}},
	{"trigger", "Start the schedule's pipeline now (subject to the overlap policy)",
		"triggered (describe shows the run; overlap skip drops it while a run is in progress)",
		func(ctx context.Context, h client.ScheduleHandle, p enumspb.ScheduleOverlapPolicy) error {
			return h.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: p})
		}},
	{"delete", "Delete a schedule (pipelines it started keep running)", "deleted (pipelines it started keep running)",
		func(ctx context.Context, h client.ScheduleHandle, _ enumspb.ScheduleOverlapPolicy) error {
			return h.Delete(ctx)
		}},
}
