package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cyclecore/mlmforge/pipelinespec"
	"github.com/cyclecore/mlmforge/workflows"
)

// schedulePrefix prefixes every pipeline schedule id (and the ids of the
// workflows it starts, to which Temporal appends the scheduled time).
const schedulePrefix = "pipeline-"

// scheduleMemoKey holds a scheduleMemo in the schedule's memo: the server
// compiles cron strings into calendars, so the memo keeps what the user wrote.
const scheduleMemoKey = "mlmforge"

// scheduleMemo is what create remembers beside the Temporal schedule.
type scheduleMemo struct {
	// When is the schedule as given: cron "EXPR" or every DURATION.
	When string `json:"when"`
	// SpecFile is the absolute path of the spec file at create time; the
	// schedule keeps a copy of its content, so later edits do not apply.
	SpecFile string `json:"spec_file"`
}

var scheduleName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// overlapPolicies maps the --overlap names to Temporal's policies.
var overlapPolicies = []struct {
	name   string
	policy enumspb.ScheduleOverlapPolicy
}{
	{"skip", enumspb.SCHEDULE_OVERLAP_POLICY_SKIP},
	{"buffer_one", enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE},
	{"buffer_all", enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL},
	{"allow_all", enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL},
	{"cancel_other", enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER},
	{"terminate_other", enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER},
}

func parseOverlap(s string) (enumspb.ScheduleOverlapPolicy, error) {
	names := make([]string, len(overlapPolicies))
	for i, o := range overlapPolicies {
		if o.name == strings.ReplaceAll(strings.ToLower(s), "-", "_") {
			return o.policy, nil
		}
		names[i] = o.name
	}
	return 0, fmt.Errorf("--overlap %q: want one of %s", s, strings.Join(names, ", "))
}

func overlapName(p enumspb.ScheduleOverlapPolicy) string {
	for _, o := range overlapPolicies {
		if o.policy == p {
			return o.name
		}
	}
	return "skip" // unspecified: the server applies skip
}

func newScheduleCmd(a *app) *cobra.Command {
	var cf clusterFlags
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Run a pipeline spec on a schedule (Temporal Schedules): create, ls, describe, pause, trigger ...",
		Long: `schedule manages Temporal Schedules that start the Pipeline workflow with a
pipeline spec (docs/pipeline.md): regenerate datasets, review, train, evaluate
and promote, every week or every hour. A schedule lives in the Temporal server,
so it needs one that keeps running: start it with 'mlmforge dev' (or use a
cluster) and pass --address to every schedule command.

The schedule id is pipeline-NAME; the workflows it starts are
pipeline-NAME-<scheduled time>. By default a firing that comes while the
previous run still works (or waits for reviewers) is skipped (--overlap skip).`,
		Example: `  mlmforge dev &
  mlmforge schedule create --name weekly --cron "0 3 * * 1" --spec examples/pipeline.yaml --address 127.0.0.1:7233
  mlmforge schedule describe weekly --address 127.0.0.1:7233`,
	}
	cmd.PersistentFlags().StringVar(&cf.address, "address", "",
		"Temporal frontend HOST:PORT (required: a running 'mlmforge dev', e.g. 127.0.0.1:7233, or a cluster)")
	cmd.PersistentFlags().StringVar(&cf.namespace, "namespace", workflows.DefaultNamespace, "Temporal namespace")
	cf.tls.register(cmd.PersistentFlags())
	cmd.AddCommand(newScheduleCreateCmd(a, &cf), newScheduleLsCmd(a, &cf), newScheduleDescribeCmd(a, &cf),
		newScheduleBackfillCmd(a, &cf))
	for _, op := range scheduleOps {
		cmd.AddCommand(newScheduleOpCmd(a, &cf, op))
	}
	return cmd
}

// withSchedules dials the server and runs fn. Without --address the embedded
// server would live only as long as this command, and the schedule with it.
func withSchedules(ctx context.Context, cf *clusterFlags, fn func(sc client.ScheduleClient) error) error {
	if cf.address == "" {
		return usageErrorf("schedule: --address is required: schedules live in a running server (start 'mlmforge dev' and pass --address 127.0.0.1:7233)")
	}
	if err := cf.validate(); err != nil {
		return err
	}
	c, err := dialCluster(ctx, *cf)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c.ScheduleClient())
}

// scheduleErr names the schedule in a server error and explains a missing one.
func scheduleErr(op, name string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("schedule %q not found (id %s%s): 'mlmforge schedule ls' lists them", name, schedulePrefix, name)
	}
	return fmt.Errorf("%s schedule %s%s: %w", op, schedulePrefix, name, err)
}

// scheduleCreateFlags are the flags of `mlmforge schedule create`.
type scheduleCreateFlags struct {
	name, cron, spec, overlap, timeZone, note string
	every, catchup, jitter                    time.Duration
	paused                                    bool
}

func newScheduleCreateCmd(a *app, cf *clusterFlags) *cobra.Command {
	var f scheduleCreateFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a schedule that runs a pipeline spec (--cron or --every)",
		Example: `  mlmforge schedule create --name weekly --cron "0 3 * * 1" --spec pipeline.yaml --address 127.0.0.1:7233
  mlmforge schedule create --name hourly --every 1h --spec pipeline.yaml --overlap buffer_one --catchup-window 1h --address 127.0.0.1:7233`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := f.options()
			if err != nil {
				return err
			}
			return withSchedules(cmd.Context(), cf, func(sc client.ScheduleClient) error {
				return createSchedule(cmd.Context(), a, sc, f, opts)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "schedule name (required; the schedule id is pipeline-NAME)")
	fl.StringVar(&f.cron, "cron", "", `cron expression, e.g. "0 3 * * 1" (Mondays 03:00); 5 to 7 fields or @daily, @weekly ...`)
	fl.DurationVar(&f.every, "every", 0, "fire at a fixed interval instead of --cron, e.g. 1h (at least 1s)")
	fl.StringVar(&f.spec, "spec", "", "pipeline spec file, YAML or JSON (required; see docs/pipeline.md)")
	fl.StringVar(&f.overlap, "overlap", "skip", "when a firing finds the previous run still going: skip, buffer_one, buffer_all, allow_all, cancel_other or terminate_other")
	fl.DurationVar(&f.catchup, "catchup-window", 0, "how late a missed firing (server down) may still run (0 = server default, 1 year)")
	fl.DurationVar(&f.jitter, "jitter", 0, "delay each firing by a random duration up to this")
	fl.StringVar(&f.timeZone, "time-zone", "", "IANA time zone of --cron, e.g. Europe/Berlin (default UTC)")
	fl.BoolVar(&f.paused, "paused", false, "create the schedule paused")
	fl.StringVar(&f.note, "note", "", "note shown by describe")
	return cmd
}

// options validates the flags and the spec file and builds the schedule.
func (f *scheduleCreateFlags) options() (client.ScheduleOptions, error) {
	var o client.ScheduleOptions
	switch {
	case f.name == "":
		return o, usageErrorf("--name is required")
	case !scheduleName.MatchString(f.name):
		return o, usageErrorf("--name %q: use lower-case letters, digits, '.', '_' and '-'", f.name)
	case f.cron == "" && f.every == 0:
		return o, usageErrorf("give --cron or --every")
	case f.cron != "" && f.every != 0:
		return o, usageErrorf("give --cron or --every, not both")
	case f.every != 0 && f.every < time.Second:
		return o, usageErrorf("--every %s: must be at least 1s", f.every)
	case f.spec == "":
		return o, usageErrorf("--spec is required: a pipeline spec file (see docs/pipeline.md)")
	case f.catchup < 0 || f.jitter < 0:
		return o, usageErrorf("--catchup-window and --jitter must be >= 0")
	}
	overlap, err := parseOverlap(f.overlap)
	if err != nil {
		return o, &usageError{err}
	}
	spec, err := pipelinespec.Load(f.spec)
	if err != nil {
		return o, err
	}
	abs, err := filepath.Abs(f.spec)
	if err != nil {
		return o, fmt.Errorf("--spec %q: %w", f.spec, err)
	}
	memo := scheduleMemo{SpecFile: abs}
	o.Spec = client.ScheduleSpec{Jitter: f.jitter, TimeZoneName: f.timeZone}
	if f.cron != "" {
		o.Spec.CronExpressions = []string{f.cron}
		memo.When = fmt.Sprintf("cron %q", f.cron)
	} else {
		o.Spec.Intervals = []client.ScheduleIntervalSpec{{Every: f.every}}
		memo.When = "every " + f.every.String()
	}
	o.ID = schedulePrefix + f.name
	o.Action = &client.ScheduleWorkflowAction{
		ID:        o.ID,
		Workflow:  workflows.PipelineWorkflowName,
		Args:      []any{spec},
		TaskQueue: workflows.TaskQueueWorkflows,
	}
	o.Overlap, o.CatchupWindow, o.Paused, o.Note = overlap, f.catchup, f.paused, f.note
	o.Memo = map[string]any{scheduleMemoKey: memo}
	return o, nil
}

func createSchedule(ctx context.Context, a *app, sc client.ScheduleClient, f scheduleCreateFlags, o client.ScheduleOptions) error {
	h, err := sc.Create(ctx, o)
	var inv *serviceerror.InvalidArgument
	switch {
	case errors.Is(err, temporal.ErrScheduleAlreadyRunning):
		return fmt.Errorf("schedule %q already exists (id %s): delete it first to replace it", f.name, o.ID)
	case errors.As(err, &inv) && strings.Contains(inv.Message, "time zone"):
		return usageErrorf("--time-zone %q: %s", f.timeZone, inv.Message)
	case errors.As(err, &inv) && f.cron != "":
		return usageErrorf("--cron %q: %s", f.cron, inv.Message)
	case errors.As(err, &inv):
		return usageErrorf("create schedule %s: %s", o.ID, inv.Message)
	case err != nil:
		return fmt.Errorf("create schedule %s: %w", o.ID, err)
	}
	state := "active"
	if f.paused {
		state = "paused"
	}
	fmt.Fprintf(a.out, "Created schedule %s (id %s): %s, overlap %s, %s\n", f.name, h.GetID(),
		o.Memo[scheduleMemoKey].(scheduleMemo).When, overlapName(o.Overlap), state)
	if d, err := h.Describe(ctx); err == nil && len(d.Info.NextActionTimes) > 0 && !f.paused {
		fmt.Fprintf(a.out, "Next run: %s\n", formatScheduleTime(d.Info.NextActionTimes[0]))
	}
	return nil
}

func newScheduleOpCmd(a *app, cf *clusterFlags, op scheduleOp) *cobra.Command {
	var overlap string
	cmd := &cobra.Command{
		Use:   op.use + " NAME",
		Short: op.short,
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var policy enumspb.ScheduleOverlapPolicy // unspecified: the schedule's own
			if overlap != "" {
				p, err := parseOverlap(overlap)
				if err != nil {
					return &usageError{err}
				}
				policy = p
			}
			return withSchedules(cmd.Context(), cf, func(sc client.ScheduleClient) error {
				if err := op.act(cmd.Context(), sc.GetHandle(cmd.Context(), schedulePrefix+args[0]), policy); err != nil {
					return scheduleErr(op.use, args[0], err)
				}
				fmt.Fprintf(a.out, "Schedule %s %s\n", args[0], op.done)
				return nil
			})
		},
	}
	if op.use == "trigger" {
		cmd.Flags().StringVar(&overlap, "overlap", "", "overlap policy for this run (default: the schedule's), e.g. allow_all")
	}
	return cmd
}

func newScheduleBackfillCmd(a *app, cf *clusterFlags) *cobra.Command {
	var from, to, overlap string
	cmd := &cobra.Command{
		Use:     "backfill NAME --from T --to T",
		Short:   "Take the actions a schedule would have taken between two times, now",
		Example: `  mlmforge schedule backfill weekly --from 2025-01-01 --to 2025-02-01 --overlap buffer_all --address 127.0.0.1:7233`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := backfillRange(from, to, overlap)
			if err != nil {
				return err
			}
			return withSchedules(cmd.Context(), cf, func(sc client.ScheduleClient) error {
				h := sc.GetHandle(cmd.Context(), schedulePrefix+args[0])
				if err := h.Backfill(cmd.Context(), client.ScheduleBackfillOptions{Backfill: []client.ScheduleBackfill{b}}); err != nil {
					return scheduleErr("backfill", args[0], err)
				}
				fmt.Fprintf(a.out, "Backfilling schedule %s from %s to %s\n", args[0], formatScheduleTime(b.Start), formatScheduleTime(b.End))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "start of the range: RFC 3339 time or a date (YYYY-MM-DD, UTC) (required)")
	cmd.Flags().StringVar(&to, "to", "", "end of the range, same forms (required)")
	cmd.Flags().StringVar(&overlap, "overlap", "", "overlap policy for the backfilled runs (default: the schedule's; buffer_all runs them one after another)")
	return cmd
}

// backfillRange parses the flags of backfill.
func backfillRange(from, to, overlap string) (client.ScheduleBackfill, error) {
	var b client.ScheduleBackfill
	parse := func(flag, s string) (time.Time, error) {
		if s == "" {
			return time.Time{}, usageErrorf("--%s is required", flag)
		}
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
		return time.Time{}, usageErrorf("--%s %q: want an RFC 3339 time (2025-01-06T03:00:00Z) or a date (2025-01-06)", flag, s)
	}
	var err error
	if b.Start, err = parse("from", from); err != nil {
		return b, err
	}
	if b.End, err = parse("to", to); err != nil {
		return b, err
	}
	if !b.End.After(b.Start) {
		return b, usageErrorf("--to %s is not after --from %s", to, from)
	}
	if overlap != "" {
		if b.Overlap, err = parseOverlap(overlap); err != nil {
			return b, &usageError{err}
		}
	}
	return b, nil
}
