package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/review/web"
)

func newReviewCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Review the 10% sample of datasets waiting at the review gate (web UI and CLI)",
		Long: `Datasets generated with --review required wait at the review gate until every
sampled record has a decision. Reviewers work through the web UI (review serve)
or these commands; each decision is a Temporal update whose validator answers
at once (unknown record, malformed or schema-breaking edit ...).`,
	}
	var cf clusterFlags
	cf.registerPersistent(cmd)
	cmd.AddCommand(newReviewServeCmd(a, &cf), newReviewAddReviewerCmd(a), newReviewLsCmd(a, &cf),
		newReviewNextCmd(a, &cf), newReviewDecideCmd(a, &cf, review.Approve), newReviewDecideCmd(a, &cf, review.Reject),
		newReviewDecideCmd(a, &cf, review.Edit), newReviewExportCmd(a))
	return cmd
}

func (f *clusterFlags) registerPersistent(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.address, "address", "127.0.0.1:7233", "Temporal frontend HOST:PORT")
	cmd.PersistentFlags().StringVar(&f.namespace, "namespace", "default", "Temporal namespace")
}

// withGate dials the cluster and runs fn with a Temporal-backed gate.
func withGate(ctx context.Context, cf *clusterFlags, fn func(g *temporalGate) error) error {
	if err := cf.validate(); err != nil {
		return err
	}
	c, err := dialCluster(ctx, *cf)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(&temporalGate{c: c})
}

func reviewersPath(a *app) string { return filepath.Join(a.home, "review", "reviewers.json") }

func newReviewServeCmd(a *app, cf *clusterFlags) *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the reviewer web UI",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withGate(cmd.Context(), cf, func(g *temporalGate) error {
				return serveReview(cmd.Context(), a, g, listen)
			})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8234", "address of the reviewer UI")
	return cmd
}

// serveReview serves the reviewer UI until ctx ends.
func serveReview(ctx context.Context, a *app, g web.Gate, listen string) error {
	revs, err := web.OpenReviewers(reviewersPath(a))
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", listen, err)
	}
	srv := &http.Server{Handler: web.NewServer(web.Config{Gate: g, Reviewers: revs}), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(a.out, "Reviewer UI at http://%s (add reviewers with: mlmforge review add-reviewer NAME)\n", l.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newReviewAddReviewerCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "add-reviewer NAME",
		Short: "Add a reviewer and print the login token (stored only as a hash)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			revs, err := web.OpenReviewers(reviewersPath(a))
			if err != nil {
				return err
			}
			tok, err := revs.Add(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%s\n", tok)
			fmt.Fprintf(a.err, "reviewer %s added; the token is shown once, give it to them for the UI login\n", args[0])
			return nil
		},
	}
}

func newReviewLsCmd(a *app, cf *clusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List datasets waiting for review with their progress",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withGate(cmd.Context(), cf, func(g *temporalGate) error {
				qs, err := g.Queues(cmd.Context())
				if err != nil {
					return err
				}
				if len(qs) == 0 {
					fmt.Fprintln(a.out, "no dataset is waiting for review")
				}
				for _, q := range qs {
					fmt.Fprintf(a.out, "%s  %s  %d/%d decided  %d leased  %d need adjudication  (%s)\n", q.ID, q.Task,
						q.Progress.Decided, q.Progress.Sampled, q.Progress.Leased, q.Progress.NeedsAdjudication, q.Policy)
				}
				return nil
			})
		},
	}
}

func newReviewNextCmd(a *app, cf *clusterFlags) *cobra.Command {
	var reviewer string
	cmd := &cobra.Command{
		Use:   "next QUEUE",
		Short: "Lease the next sampled record to a reviewer and print it as JSON",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if reviewer == "" {
				return usageErrorf("--reviewer is required")
			}
			return withGate(cmd.Context(), cf, func(g *temporalGate) error {
				rec, err := g.Lease(cmd.Context(), args[0], reviewer)
				if errors.Is(err, review.ErrQueueEmpty) {
					fmt.Fprintln(a.out, "nothing left for", reviewer)
					return nil
				}
				if err != nil {
					return err
				}
				return printJSON(a, rec)
			})
		},
	}
	cmd.Flags().StringVar(&reviewer, "reviewer", "", "reviewer name")
	return cmd
}

func newReviewDecideCmd(a *app, cf *clusterFlags, kind review.Kind) *cobra.Command {
	var d review.Decision
	var target string
	cmd := &cobra.Command{
		Use: string(kind) + " QUEUE RECORD_ID",
		Short: map[review.Kind]string{review.Approve: "Approve a sampled record", review.Reject: "Reject a sampled record with a reason",
			review.Edit: "Correct a sampled record's target (--target JSON) and/or input (--input)"}[kind],
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if d.Reviewer == "" {
				return usageErrorf("--reviewer is required")
			}
			d.Kind, d.RecordID = kind, args[1]
			if target != "" {
				d.EditTarget = json.RawMessage(target)
			}
			if d.RequestID == "" {
				d.RequestID = d.Reviewer + "-" + string(kind) + "-" + d.RecordID + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			}
			return withGate(cmd.Context(), cf, func(g *temporalGate) error {
				out, err := g.Decide(cmd.Context(), args[0], d)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.out, "%s: %s (%d of %d decided)\n", d.RecordID, out.Status, out.Progress.Decided, out.Progress.Sampled)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&d.Reviewer, "reviewer", "", "reviewer name")
	cmd.Flags().StringVar(&d.RequestID, "request-id", "", "idempotency key (default: a new one per call)")
	cmd.Flags().StringVar(&d.Note, "note", "", "free-text note")
	if kind == review.Reject {
		cmd.Flags().StringVar(&d.Reason, "reason", "", "one of the reject reasons (wrong_label, not_grounded, unnatural_text, unsafe_or_pii, duplicate, other)")
	}
	if kind == review.Edit {
		cmd.Flags().StringVar(&target, "target", "", "corrected target JSON")
		cmd.Flags().StringVar(&d.EditInput, "input", "", "corrected input text")
	}
	return cmd
}

func newReviewExportCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "export REF",
		Short: "Print the review decisions of a released dataset version (review.parquet) as JSON lines",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := datasetsVersion(a, args[0])
			if err != nil {
				return err
			}
			rows, err := review.ReadDecisions(filepath.Join(v.Dir(), "review.parquet"))
			if err != nil {
				return fmt.Errorf("%s has no review decisions (auto-approved or not reviewed?): %w", args[0], err)
			}
			enc := json.NewEncoder(a.out)
			for _, r := range rows {
				if err := enc.Encode(r); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func printJSON(a *app, v any) error {
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
