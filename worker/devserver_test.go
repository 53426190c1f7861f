package worker

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/cyclecore/mlmforge/activities"
	"github.com/cyclecore/mlmforge/internal/testutil/extproc"
	"github.com/cyclecore/mlmforge/workflows"
)

// The restart tests run the embedded server in child processes (this test
// binary re-executed) so that a real SIGKILL hits a real server mid-life.
const childEnv = "MLMFORGE_TEST_DEVSERVER_CHILD"

func TestMain(m *testing.M) {
	extproc.Main(m, childEnv, runChild)
}

// runChild starts server + worker, writes the address to addrFile, and runs
// until SIGTERM. spec is "dbPath|addrFile".
func runChild(spec string) int {
	dbPath, addrFile, _ := strings.Cut(spec, "|")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv, err := StartDevServer(ServerConfig{DBPath: dbPath, Namespaces: []string{workflows.DefaultNamespace},
		LogFile: filepath.Join(filepath.Dir(dbPath), "temporal.log")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 3
	}
	c, err := Dial(ctx, DialConfig{Address: srv.Address(), Timeout: 5 * time.Minute})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 4
	}
	stopWorkers, err := Start(c, Config{Activities: &activities.Activities{Identity: activities.DefaultIdentity()}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 5
	}
	if err := os.WriteFile(addrFile+".tmp", []byte(srv.Address()), 0o644); err != nil {
		return 6
	}
	if err := os.Rename(addrFile+".tmp", addrFile); err != nil {
		return 6
	}
	<-ctx.Done()
	stopWorkers()
	c.Close()
	if err := srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "child: stop:", err)
		return 7
	}
	return 0
}

// child is a dev server child process whose exit a goroutine waits for.
type child struct {
	*exec.Cmd
	exited chan error // holds the exit error once the child is gone
}

// wait blocks until the child has exited and returns its exit error.
func (c *child) wait() error {
	err := <-c.exited
	c.exited <- err
	return err
}

// tail returns the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// startChild launches a dev server child on dbPath and waits for its address
// or its exit, whichever comes first: no wall-clock deadline (a busy machine
// only makes it slower; the test binary's -timeout bounds a hang).
func startChild(t *testing.T, dbPath string) (*child, string) {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	cmd := extproc.Self(childEnv, dbPath+"|"+addrFile)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(addrFile); err == nil {
			return &child{cmd, exited}, string(b)
		}
		select {
		case err := <-exited:
			exited <- err // for Cleanup and wait
			log, _ := os.ReadFile(filepath.Join(filepath.Dir(dbPath), "temporal.log"))
			t.Fatalf("dev server child exited before serving: %v\nits temporal.log ends:\n%s", err, tail(log, 4000))
		case <-tick.C:
		}
	}
}

func runHealth(t *testing.T, c client.Client, id string) workflows.HealthResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueueWorkflows},
		workflows.HealthWorkflowName, workflows.HealthInput{})
	if err != nil {
		t.Fatalf("start health: %v", err)
	}
	var res workflows.HealthResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("health workflow: %v", err)
	}
	if len(res.Queues) != 3 {
		t.Fatalf("health pinged %d queues, want 3: %+v", len(res.Queues), res)
	}
	for _, q := range res.Queues {
		if q.Error != "" || q.Worker == "" {
			t.Fatalf("queue %s not served: %+v", q.Queue, q)
		}
	}
	return res
}

func TestDevServerHistorySurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two embedded Temporal servers; skipped with -short")
	}
	dbPath := filepath.Join(t.TempDir(), "temporal", "temporal.db")
	first, addr := startChild(t, dbPath)
	c, err := Dial(context.Background(), DialConfig{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	res := runHealth(t, c, "health-before-kill")
	if !strings.HasPrefix(res.WorkflowWorker, fmt.Sprintf("%d@", first.Process.Pid)) {
		t.Errorf("workflow ran on %q, want the child pid %d", res.WorkflowWorker, first.Process.Pid)
	}
	c.Close()

	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.wait()

	second, addr2 := startChild(t, dbPath)
	c2, err := Dial(context.Background(), DialConfig{Address: addr2})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	desc, err := c2.DescribeWorkflowExecution(ctx, "health-before-kill", "")
	if err != nil {
		t.Fatalf("history lost after kill -9: %v", err)
	}
	if st := desc.WorkflowExecutionInfo.Status; st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Fatalf("workflow status after restart = %v, want COMPLETED", st)
	}
	iter := c2.GetWorkflowHistory(ctx, "health-before-kill", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	events := 0
	for iter.HasNext() {
		if _, err := iter.Next(); err != nil {
			t.Fatal(err)
		}
		events++
	}
	if events < 10 {
		t.Fatalf("history after restart has %d events, want the full history (>= 10)", events)
	}
	runHealth(t, c2, "health-after-restart")

	// SIGTERM is a clean shutdown: exit code 0.
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.wait(); err != nil {
		t.Fatalf("clean shutdown on SIGTERM failed: %v", err)
	}
}

func TestStartDevServerPortInUse(t *testing.T) {
	p, err := ReservePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	l, err := listen(p)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = StartDevServer(ServerConfig{DBPath: filepath.Join(t.TempDir(), "t.db"), Port: p, Namespaces: []string{"default"}})
	if err == nil || !strings.Contains(err.Error(), "pick another --port") {
		t.Fatalf("err = %v, want a port-in-use message", err)
	}
}
