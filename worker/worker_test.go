package worker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/workflows"
)

func listen(port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}

func TestValidateAddress(t *testing.T) {
	tests := []struct {
		addr string
		want string // substring of the error; "" = valid
	}{
		{"127.0.0.1:7233", ""},
		{"temporal.internal:7233", ""},
		{"[::1]:7233", ""},
		{"localhost", "want HOST:PORT"},
		{":7233", "missing host"},
		{"host:port", "port must be a number"},
		{"host:0", "port must be a number"},
		{"host:70000", "port must be a number"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := ValidateAddress(tt.addr)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--address") {
				t.Fatalf("err = %v, want one naming --address and containing %q", err, tt.want)
			}
		})
	}
}

func TestParseQueues(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"all", []string{"mlmforge", "generate", "train", "eval"}, ""},
		{"", []string{"mlmforge", "generate", "train", "eval"}, ""},
		{"none", nil, ""},
		{"train, eval,train", []string{"train", "eval"}, ""},
		{"gpu", nil, `unknown queue "gpu"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseQueues(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestDialUnreachableIsOneLine(t *testing.T) {
	p, err := ReservePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	_, err = Dial(context.Background(), DialConfig{Address: addr, Timeout: 2 * time.Second})
	if err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, addr) {
		t.Fatalf("error %q: want one line naming %s", msg, addr)
	}
}

// TestLockDBRefusesSecondServer (issue 14 item 9): a second server on the
// same database is refused, and the error names the --address that reaches
// the first one (the port it actually uses, not a default).
func TestLockDBRefusesSecondServer(t *testing.T) {
	db := t.TempDir() + "/temporal.db"
	first, err := lockDB(db, "127.0.0.1:7301")
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockDB(db, "127.0.0.1:7302")
	var inUse *HomeInUseError
	if !errors.As(err, &inUse) || inUse.Address != "127.0.0.1:7301" || inUse.PID != os.Getpid() ||
		!strings.Contains(err.Error(), "in use by another mlmforge process") || !strings.Contains(err.Error(), "--address 127.0.0.1:7301") {
		t.Fatalf("second lock: err = %v, want an in-use error naming --address 127.0.0.1:7301 and pid %d", err, os.Getpid())
	}
	first.Close()
	again, err := lockDB(db, "0.0.0.0:7303")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	defer again.Close()
	// A server listening on every interface is reached on loopback.
	if _, err := lockDB(db, "127.0.0.1:7304"); err == nil || !strings.Contains(err.Error(), "--address 127.0.0.1:7303") {
		t.Fatalf("lock held by a 0.0.0.0 server: err = %v, want it to name --address 127.0.0.1:7303", err)
	}
}

// TestHomeInUseOldLockFile: a lock file from before addresses were kept
// ("pid N") gives the error without an address rather than a wrong one.
func TestHomeInUseOldLockFile(t *testing.T) {
	e := newHomeInUse("/h/temporal.db", "pid 42")
	if e.PID != 42 || e.Address != "" || strings.Contains(e.Error(), "--address") {
		t.Fatalf("%+v: %v", e, e)
	}
	if got := dialable("[::]:7233"); got != "[::1]:7233" {
		t.Fatalf("dialable([::]:7233) = %s", got)
	}
}

// TestCorruptionIsPermanent (issue 14 item 6): an activity error that wraps
// datasets.ErrCorrupt becomes non-retryable with its message kept.
func TestCorruptionIsPermanent(t *testing.T) {
	corrupt := fmt.Errorf("train %s: %w", "x", fmt.Errorf("verify edgeintent@v1: /h/train.parquet: sha256 ab, manifest says cd: %w", datasets.ErrCorrupt))
	err := permanentCorruption(corrupt)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != workflows.ErrDatasetCorrupt || !strings.Contains(err.Error(), "/h/train.parquet") {
		t.Fatalf("err = %v, want a non-retryable DatasetCorrupt naming the file", err)
	}
	other := errors.New("connection refused")
	if permanentCorruption(other) != other || permanentCorruption(nil) != nil {
		t.Fatal("other errors changed")
	}
}

// TestQuietShutdown (issue 14 item 9): an activity stopped by its worker's
// shutdown (Ctrl+C of train on the embedded server) fails with a benign
// error that keeps its message and stays retryable, so the SDK does not log
// it at ERROR; a cancellation by the workflow passes unchanged.
func TestQuietShutdown(t *testing.T) {
	stopped := fmt.Errorf("training canceled at step 25: %w", context.Canceled)
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(sdkworker.ErrWorkerShutdown)
	err := quietShutdown(ctx, stopped)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Category() != temporal.ApplicationErrorCategoryBenign || appErr.NonRetryable() ||
		appErr.Type() != WorkerShutdownError || !strings.Contains(err.Error(), "training canceled at step 25") {
		t.Fatalf("worker shutdown: %v, want a benign retryable %s error keeping the message", err, WorkerShutdownError)
	}
	byWorkflow, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if got := quietShutdown(byWorkflow, stopped); got != stopped {
		t.Fatalf("a cancellation not from a shutdown became %v", got)
	}
	if got := quietShutdown(context.Background(), nil); got != nil {
		t.Fatalf("nil became %v", got)
	}
}
