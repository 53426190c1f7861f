package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/review/web"
	"github.com/cyclecore/mlmforge/worker/reviewgate"
)

func newReviewCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Review the 10% sample of datasets waiting at the review gate (web UI and CLI)",
		Long: `Datasets generated with --review required wait at the review gate until every
sampled record has a decision. Reviewers work through the web UI (review serve)
or these commands; each decision is a Temporal update whose validator answers
at once (unknown record, malformed or schema-breaking edit ...). Every request
is signed with the reviewer's token (--token, or MLMFORGE_REVIEW_TOKEN) and the
gate checks the signature, so reaching the Temporal port is not enough to act
as a reviewer. The port itself must still be protected (mTLS, see --tls-*, or a
private network): whoever reaches it can cancel or terminate workflows.`,
	}
	var cf clusterFlags
	cf.registerPersistent(cmd)
	cmd.AddCommand(newReviewServeCmd(a, &cf), newReviewAddReviewerCmd(a), newReviewRemoveReviewerCmd(a, &cf),
		newReviewRotateTokenCmd(a, &cf), newReviewLsCmd(a, &cf),
		newReviewNextCmd(a, &cf), newReviewDecideCmd(a, &cf, review.Approve), newReviewDecideCmd(a, &cf, review.Reject),
		newReviewDecideCmd(a, &cf, review.Edit), newReviewExportCmd(a))
	return cmd
}

func (f *clusterFlags) registerPersistent(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.address, "address", "127.0.0.1:7233", "Temporal frontend HOST:PORT")
	cmd.PersistentFlags().StringVar(&f.namespace, "namespace", "default", "Temporal namespace")
	f.tls.register(cmd.PersistentFlags())
}

// withGate dials the cluster and runs fn with a Temporal-backed gate.
func withGate(ctx context.Context, cf *clusterFlags, fn func(g *reviewgate.Gate) error) error {
	if err := cf.validate(); err != nil {
		return err
	}
	c, err := dialCluster(ctx, *cf)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(reviewgate.New(c))
}

// reviewListen says where and how the reviewer UI is served.
type reviewListen struct {
	// addr is HOST:PORT.
	addr string
	// certFile and keyFile, when set, serve HTTPS (and mark the session cookie Secure).
	certFile, keyFile string
}

// register adds the listen flag and, with tlsPrefix, the flags of the
// UI's certificate and key (the review command's own --tls-* flags are the
// Temporal client's).
func (l *reviewListen) register(fs *pflag.FlagSet, listenFlag, tlsPrefix, defaultAddr, usage string) {
	fs.StringVar(&l.addr, listenFlag, defaultAddr, usage)
	fs.StringVar(&l.certFile, tlsPrefix+"tls-cert", "", "PEM certificate: serve the reviewer UI over HTTPS (needed beyond localhost)")
	fs.StringVar(&l.keyFile, tlsPrefix+"tls-key", "", "PEM key of --"+tlsPrefix+"tls-cert")
}

// validate checks the TLS pair before anything starts.
func (l reviewListen) validate(prefix string) error {
	if (l.certFile == "") != (l.keyFile == "") {
		return usageErrorf("--%stls-cert and --%stls-key go together", prefix, prefix)
	}
	if l.certFile != "" {
		if _, err := tls.LoadX509KeyPair(l.certFile, l.keyFile); err != nil {
			return usageErrorf("--%stls-cert/--%stls-key: %v", prefix, prefix, err)
		}
	}
	return nil
}

func newReviewServeCmd(a *app, cf *clusterFlags) *cobra.Command {
	var listen reviewListen
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the reviewer web UI",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := listen.validate("ui-"); err != nil {
				return err
			}
			return withGate(cmd.Context(), cf, func(g *reviewgate.Gate) error {
				return serveReview(cmd.Context(), a, g, listen)
			})
		},
	}
	listen.register(cmd.Flags(), "listen", "ui-", "127.0.0.1:8234", "address of the reviewer UI")
	return cmd
}

// Timeouts of the reviewer UI: a slow or idle client cannot hold a
// connection (and a goroutine) open for long. Decisions are small requests
// answered once the gate's update completes, well within writeTimeout.
const (
	reviewReadTimeout  = 30 * time.Second
	reviewWriteTimeout = 60 * time.Second
	reviewIdleTimeout  = 2 * time.Minute
)

// serveReview serves the reviewer UI until ctx ends.
func serveReview(ctx context.Context, a *app, g web.Gate, listen reviewListen) error {
	revs, err := review.OpenReviewers(review.StorePath(a.home))
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", listen.addr)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", listen.addr, err)
	}
	secure := listen.certFile != ""
	srv := &http.Server{Handler: web.NewServer(web.Config{Gate: g, Reviewers: revs, SecureCookies: secure}),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: reviewReadTimeout, WriteTimeout: reviewWriteTimeout,
		IdleTimeout: reviewIdleTimeout}
	scheme := "http"
	if secure {
		scheme = "https"
	} else if !isLoopback(l.Addr()) {
		fmt.Fprintf(a.err, "warning: the reviewer UI listens on %s without TLS: tokens and session cookies cross the network "+
			"in clear text; serve it over HTTPS with a certificate and key\n", l.Addr())
	}
	fmt.Fprintf(a.out, "Reviewer UI at %s://%s (add reviewers with: mlmforge review add-reviewer NAME)\n", scheme, l.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if secure {
		err = srv.ServeTLS(l, listen.certFile, listen.keyFile)
	} else {
		err = srv.Serve(l)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// isLoopback reports whether a listener's address is a loopback one.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func newReviewLsCmd(a *app, cf *clusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List datasets waiting for review with their progress",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withGate(cmd.Context(), cf, func(g *reviewgate.Gate) error {
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
	var id reviewerFlags
	cmd := &cobra.Command{
		Use:   "next QUEUE",
		Short: "Lease the next sampled record to a reviewer and print it as JSON",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			who, err := id.signer()
			if err != nil {
				return err
			}
			return withGate(cmd.Context(), cf, func(g *reviewgate.Gate) error {
				rec, err := g.Lease(cmd.Context(), args[0], who)
				if errors.Is(err, review.ErrQueueEmpty) {
					fmt.Fprintln(a.out, "nothing left for", who.Reviewer)
					return nil
				}
				if err != nil {
					return err
				}
				return printJSON(a, rec)
			})
		},
	}
	id.register(cmd)
	return cmd
}

func newReviewDecideCmd(a *app, cf *clusterFlags, kind review.Kind) *cobra.Command {
	var d review.Decision
	var target string
	var id reviewerFlags
	cmd := &cobra.Command{
		Use: string(kind) + " QUEUE RECORD_ID",
		Short: map[review.Kind]string{review.Approve: "Approve a sampled record", review.Reject: "Reject a sampled record with a reason",
			review.Edit: "Correct a sampled record's target (--target JSON) and/or input (--input)"}[kind],
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			who, err := id.signer()
			if err != nil {
				return err
			}
			d.Reviewer, d.Kind, d.RecordID = who.Reviewer, kind, args[1]
			if target != "" {
				d.EditTarget = json.RawMessage(target)
			}
			if d.RequestID == "" {
				d.RequestID = d.Reviewer + "-" + string(kind) + "-" + d.RecordID + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			}
			return withGate(cmd.Context(), cf, func(g *reviewgate.Gate) error {
				out, err := g.Decide(cmd.Context(), args[0], who, d)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.out, "%s: %s (%d of %d decided)\n", d.RecordID, out.Status, out.Progress.Decided, out.Progress.Sampled)
				return nil
			})
		},
	}
	id.register(cmd)
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

// tokenEnv holds a reviewer's token for the review CLI, so it need not
// appear on a command line (and in shell history or ps).
const tokenEnv = "MLMFORGE_REVIEW_TOKEN"

// reviewerFlags identify the reviewer a CLI request is made as.
type reviewerFlags struct {
	name, token string
}

func (f *reviewerFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.name, "reviewer", "", "reviewer name")
	cmd.Flags().StringVar(&f.token, "token", "", "the reviewer's token (default $"+tokenEnv+")")
}

// signer checks the flags and returns the reviewer's request signer.
func (f reviewerFlags) signer() (review.Signer, error) {
	if f.name == "" {
		return review.Signer{}, usageErrorf("--reviewer is required")
	}
	tok := f.token
	if tok == "" {
		tok = os.Getenv(tokenEnv)
	}
	if tok == "" {
		return review.Signer{}, usageErrorf("--token or $%s is required: review gates accept only requests signed "+
			"with the reviewer's token (mlmforge review add-reviewer prints it)", tokenEnv)
	}
	return review.NewSigner(f.name, tok), nil
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
