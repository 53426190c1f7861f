// Command reviewload measures the reviewer web UI under load: it starts an
// `mlmforge dev` with the reviewer UI on loopback in a fresh home, adds the
// reviewers, generates a dataset whose every record is sampled for review,
// has the reviewers decide the sample concurrently at full speed through the
// UI's HTTP API (package reviewload), waits for the release, checks that
// every decision is recorded once, and prints the latency percentiles.
//
//	go build -o /tmp/mlmforge ./cmd/mlmforge
//	go run ./bench/reviewload/cmd -mlmforge /tmp/mlmforge
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cyclecore/mlmforge/bench/reviewload"
	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/review"
	"github.com/cyclecore/mlmforge/schemas"
)

func main() {
	bin := flag.String("mlmforge", "mlmforge", "the mlmforge binary")
	reviewers := flag.Int("reviewers", 4, "concurrent reviewers")
	perSplit := flag.Int("records", 1000, "records per split (train and test): the sample is all of them")
	timeout := flag.Duration("timeout", 30*time.Minute, "give up after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *bin, *reviewers, *perSplit); err != nil {
		fmt.Fprintln(os.Stderr, "reviewload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin string, nReviewers, perSplit int) error {
	home, err := os.MkdirTemp("", "reviewload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	mlm := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, bin, append([]string{"--home", home}, args...)...).Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("mlmforge %s: %w: %s", strings.Join(args, " "), err, ee.Stderr)
		}
		return strings.TrimSpace(string(out)), err
	}
	var revs []reviewload.Reviewer
	for i := range nReviewers {
		name := fmt.Sprintf("reviewer%d", i+1)
		tok, err := mlm("review", "add-reviewer", name)
		if err != nil {
			return err
		}
		revs = append(revs, reviewload.Reviewer{Name: name, Token: tok})
	}
	addr, base, stop, err := startDev(ctx, bin, home)
	if err != nil {
		return err
	}
	defer stop()
	n := fmt.Sprint(perSplit)
	id, err := mlm("generate", "--task", "edgeintent", "--classes", "50", "--train", n, "--test", n, "--seed", "5",
		"--review", "required", "--review-fraction", "1", "--address", addr, "--detach")
	if err != nil {
		return err
	}
	sampled, err := reviewload.WaitQueue(ctx, base, id, revs[0])
	if err != nil {
		return err
	}
	res, err := reviewload.Run(ctx, reviewload.Config{BaseURL: base, Queue: id, Reviewers: revs, RejectEvery: 20})
	if err != nil {
		return err
	}
	rows, err := waitRelease(ctx, home)
	if err != nil {
		return err
	}
	if err := reviewload.Verify(rows, res, sampled); err != nil {
		return fmt.Errorf("decisions: %w", err)
	}
	report(res, len(revs), sampled)
	return nil
}

// startDev starts `mlmforge dev` on a free port with the reviewer UI on
// loopback and returns its Temporal address, the UI's URL and a stop func.
func startDev(ctx context.Context, bin, home string) (string, string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.CommandContext(ctx, bin, "--home", home, "dev", "--port", fmt.Sprint(port), "--ui-port", "-1",
		"--review-listen", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", "", nil, err
	}
	stop := func() { _ = cmd.Process.Signal(syscall.SIGINT); _ = cmd.Wait() }
	sc := bufio.NewScanner(out)
	base := ""
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Reviewer UI at "); ok {
			base, _, _ = strings.Cut(rest, " ")
		}
		if strings.HasPrefix(sc.Text(), "Ready.") {
			go func() {
				for sc.Scan() {
				}
			}()
			if base == "" {
				stop()
				return "", "", nil, errors.New("mlmforge dev printed no reviewer UI address")
			}
			return fmt.Sprintf("127.0.0.1:%d", port), base, stop, nil
		}
	}
	stop()
	return "", "", nil, errors.New("mlmforge dev exited before it was ready")
}

// waitRelease waits for the dataset's commit and reads its decisions.
func waitRelease(ctx context.Context, home string) ([]review.DecisionRow, error) {
	for {
		store, err := datasets.Open(filepath.Join(home, "datasets"))
		if err != nil {
			return nil, err
		}
		if v, err := store.Version(schemas.EdgeIntent, "latest"); err == nil {
			return review.ReadDecisions(filepath.Join(v.Dir(), "review.parquet"))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the dataset did not release: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func report(res *reviewload.Result, reviewers, sampled int) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Printf("%d reviewers decided %d records in %s (%.1f decisions/s); every decision recorded once, none lost, released\n",
		reviewers, sampled, res.Wall.Round(time.Second), float64(len(res.Decide))/res.Wall.Seconds())
	for _, s := range []struct {
		name string
		ds   []time.Duration
	}{{"decide (POST /q/{queue}/decide)", res.Decide}, {"lease (GET /q/{queue})", res.Lease}} {
		fmt.Printf("%-32s p50 %s  p95 %s  p99 %s  max %s  (%d requests)\n", s.name,
			ms(reviewload.Percentile(s.ds, 50)), ms(reviewload.Percentile(s.ds, 95)),
			ms(reviewload.Percentile(s.ds, 99)), ms(reviewload.Percentile(s.ds, 100)), len(s.ds))
	}
	fmt.Printf("requests retried after a 5xx: %d\n", res.Retried)
}
