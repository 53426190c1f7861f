package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/worker/reviewgate"
)

// The reviewers store lives under the home (review.StorePath). The web UI
// rereads it when it changes; review gates read it when they open, when a
// request comes from a reviewer they do not know, and every 10 minutes. A
// removal or rotation must take effect at once, so those commands also ask
// every running gate they reach to reload.

func newReviewAddReviewerCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "add-reviewer NAME",
		Short: "Add a reviewer and print the login token (stored only as a hash)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			revs, err := review.OpenReviewers(review.StorePath(a.home))
			if err != nil {
				return err
			}
			tok, err := revs.Add(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%s\n", tok)
			fmt.Fprintf(a.err, "reviewer %s added; the token is shown once: give it to them for the UI login, "+
				"or for the CLI (--token or MLMFORGE_REVIEW_TOKEN)\n", args[0])
			return nil
		},
	}
}

func newReviewRemoveReviewerCmd(a *app, cf *clusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "remove-reviewer NAME",
		Short: "Remove a reviewer: his token stops working in the UI and at every running review gate",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			revs, err := review.OpenReviewers(review.StorePath(a.home))
			if err != nil {
				return err
			}
			if err := revs.Remove(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.err, "reviewer %s removed\n", args[0])
			reloadGates(cmd.Context(), a, cf)
			return nil
		},
	}
}

func newReviewRotateTokenCmd(a *app, cf *clusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-token NAME",
		Short: "Give a reviewer a new token and print it; the old one stops working",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			revs, err := review.OpenReviewers(review.StorePath(a.home))
			if err != nil {
				return err
			}
			tok, err := revs.Rotate(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%s\n", tok)
			fmt.Fprintf(a.err, "reviewer %s has a new token (shown once); the old one no longer logs in\n", args[0])
			reloadGates(cmd.Context(), a, cf)
			return nil
		},
	}
}

// reloadGates asks every dataset workflow waiting at its review gate to
// read the reviewers store again. Gates it cannot reach (no server at
// --address) reload on their own within 10 minutes; it says so.
func reloadGates(ctx context.Context, a *app, cf *clusterFlags) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := withGate(ctx, cf, func(g *reviewgate.Gate) error {
		reloaded, err := g.ReloadAll(ctx)
		for _, id := range reloaded {
			fmt.Fprintf(a.err, "review gate %s reloaded the reviewers\n", id)
		}
		return err
	})
	if err != nil {
		fmt.Fprintf(a.err, "warning: %v; running review gates pick the change up within 10 minutes\n", err)
	}
}
