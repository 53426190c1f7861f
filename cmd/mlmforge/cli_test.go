package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/internal/testutil/extproc"
	"github.com/cyclecore/mlmforge/worker"
)

// mainArgsEnv makes this test binary act as the mlmforge binary: the child
// processes below are the real CLI, with real exit codes and streams.
const mainArgsEnv = "MLMFORGE_TEST_MAIN_ARGS"

func TestMain(m *testing.M) {
	extproc.Main(m, mainArgsEnv, func(js string) int {
		var args []string
		if err := json.Unmarshal([]byte(js), &args); err != nil {
			panic(err)
		}
		os.Args = append([]string{"mlmforge"}, args...)
		main()
		return 0
	})
}

// cliCommand returns an exec.Cmd that runs mlmforge with args in a child process.
func cliCommand(args ...string) *exec.Cmd {
	js, _ := json.Marshal(args)
	return extproc.Self(mainArgsEnv, string(js))
}

// runCLI runs mlmforge to completion and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := cliCommand(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestUserErrorsAreOneLine(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown flag", []string{"--bogus"}, 2, "unknown flag: --bogus"},
		{"unknown command", []string{"frobnicate"}, 1, `unknown command "frobnicate"`},
		{"bad address form", []string{"worker", "--address", "localhost"}, 2, `--address "localhost": want HOST:PORT`},
		{"bad address port", []string{"health", "--address", "127.0.0.1:99999"}, 2, "port must be a number"},
		{"unreachable address", []string{"health", "--address", "127.0.0.1:1"}, 1, "connect to Temporal at 127.0.0.1:1"},
		{"bad port", []string{"dev", "--port", "70000"}, 2, "--port 70000"},
		{"bad queue", []string{"worker", "--queues", "gpu"}, 2, `unknown queue "gpu"`},
		{"bad int flag", []string{"dev", "--port", "abc"}, 2, `invalid argument "abc" for "--port"`},
		{"unknown task", []string{"catalog", "ls", "edgevision"}, 2, "valid tasks are edgejson, edgeintent, edgefunccall"},
		{"unknown catalog entry", []string{"catalog", "show", "nope"}, 1, `no catalog entry "nope"`},
		{"dataset traversal", []string{"datasets", "show", "edgeintent@../../etc"}, 2, "../../etc"},
		{"extra args", []string{"version", "x"}, 2, "accepts 0 arg(s)"},
		{"generate without task", []string{"generate", "--test", "10"}, 2, "--task is required"},
		{"generate no counts", []string{"generate", "--task", "edgejson"}, 2, "--train and --test"},
		{"generate bad classes", []string{"generate", "--task", "edgeintent", "--classes", "70", "--test", "5"}, 2, "--classes 70: want 50, 100 or 200"},
		{"generate too many functions", []string{"generate", "--task", "edgefunccall", "--functions", "500", "--test", "5"}, 2, "--functions: "},
		{"generate bad teacher", []string{"generate", "--task", "edgejson", "--test", "5", "--teacher", "gpt"}, 2, `--teacher "gpt"`},
		{"generate bad version", []string{"generate", "--task", "edgejson", "--test", "5", "--version", "../../etc"}, 2, `--version: invalid version name "../../etc"`},
		{"generate bad parallel", []string{"generate", "--task", "edgejson", "--test", "5", "--parallel", "-3"}, 2, "--parallel -3: want 1 to 256"},
		{"generate holdout without test", []string{"generate", "--task", "edgeintent", "--train", "10", "--holdout-templates", "0.25"}, 2, "holdout_templates 0.25: the spec has no test split"},
		{"generate holdout out of range", []string{"generate", "--task", "edgeintent", "--test", "10", "--holdout-templates", "1"}, 2, "holdout_templates 1: must be in [0, 1)"},
		{"generate holdout teacher labels", []string{"generate", "--task", "edgeintent", "--test", "10", "--holdout-templates", "0.25", "--mode", "teacher-labels"}, 2, "needs mode label-first"},
		{"generate detach embedded", []string{"generate", "--task", "edgejson", "--test", "5", "--detach"}, 2, "--detach needs --address"},
		{"review without token", []string{"review", "approve", "q", "r1", "--reviewer", "alice"}, 2, "--token or $MLMFORGE_REVIEW_TOKEN is required"},
		{"review without reviewer", []string{"review", "next", "q", "--token", "t"}, 2, "--reviewer is required"},
		{"review UI cert without key", []string{"review", "serve", "--ui-tls-cert", "c.pem"}, 2, "--ui-tls-cert and --ui-tls-key go together"},
		{"temporal cert without key", []string{"health", "--tls-cert", "c.pem"}, 2, "--tls-cert and --tls-key go together"},
		{"temporal CA missing", []string{"review", "ls", "--tls-ca", "/nonexistent/ca.pem"}, 2, "--tls-ca"},
		{"generate ollama down", []string{"generate", "--task", "edgejson", "--test", "5", "--teacher", "ollama:qwen2.5:7b"}, 1, "no Ollama at OLLAMA_HOST=http://127.0.0.1:1: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OLLAMA_HOST", "127.0.0.1:1") // nothing listens there
			t.Setenv(tokenEnv, "")
			out, errOut, code := runCLI(t, append([]string{"--home", home}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "mlmforge: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr = %q, want one line 'mlmforge: ...%s...'", errOut, tt.want)
			}
			if strings.Contains(errOut, "goroutine") || strings.Contains(out, "Usage:") {
				t.Errorf("stack trace or usage dump printed: stdout %q stderr %q", out, errOut)
			}
		})
	}
}

// startCLI starts a long-running mlmforge child and waits for a line of output.
func startCLI(t *testing.T, ready string, args ...string) (*exec.Cmd, []string) {
	t.Helper()
	cmd := cliCommand(args...)
	return cmd, extproc.Start(t, cmd, ready, 2*time.Minute)
}

// TestWorkerAttachesToSeparateDevServer is the multi-machine path on one
// machine: process 1 is `mlmforge dev` with no worker, process 2 is
// `mlmforge worker --address`, and the health workflow must be served by 2.
func TestWorkerAttachesToSeparateDevServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server; skipped with -short")
	}
	port := freeTCPPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	dev, devOut := startCLI(t, "Ready.", "--home", t.TempDir(), "dev", "--review-listen", "127.0.0.1:0", "--port", fmt.Sprint(port), "--queues", "none", "--ui-port", "0")
	wrk, _ := startCLI(t, "Press Ctrl+C", "--home", t.TempDir(), "worker", "--address", addr)

	out, errOut, code := runCLI(t, "--home", t.TempDir(), "health", "--address", addr, "--wait", "20s")
	if code != 0 {
		t.Fatalf("health exit %d: %s %s", code, out, errOut)
	}
	wantWorker := fmt.Sprintf("%d@", wrk.Process.Pid)
	for _, q := range []string{"generate", "train", "eval"} {
		if !strings.Contains(out, q) || !strings.Contains(out, "ok  "+wantWorker) {
			t.Errorf("queue %s not served by worker process %d:\n%s", q, wrk.Process.Pid, out)
		}
	}
	if !strings.Contains(out, "ran on "+wantWorker) {
		t.Errorf("workflow did not run on the worker process:\n%s", out)
	}
	checkWebUI(t, devOut, "Health")

	// Both stop cleanly on SIGTERM.
	for _, p := range []*exec.Cmd{wrk, dev} {
		if err := p.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(); err != nil {
			t.Errorf("%v: exit after SIGTERM: %v", p.Args, err)
		}
	}
}

func TestHealthReportsUnservedQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server; skipped with -short")
	}
	port := freeTCPPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	startCLI(t, "Ready.", "--home", t.TempDir(), "dev", "--review-listen", "127.0.0.1:0", "--port", fmt.Sprint(port), "--queues", "mlmforge,generate,eval", "--ui-port", "-1")
	out, errOut, code := runCLI(t, "health", "--address", addr, "--wait", "2s")
	if code != 1 || !strings.Contains(out, "train     NO WORKER") || !strings.Contains(errOut, "1 of 3 queues have no worker") {
		t.Fatalf("exit %d, stdout %q, stderr %q: want train reported unserved", code, out, errOut)
	}
}

func TestQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server; skipped with -short")
	}
	// The real quickstart spec, scaled down so the race-instrumented test runs
	// the same pipeline in a minute or two.
	spec := quickstartSpec()
	for i := range spec.Datasets {
		for split, n := range spec.Datasets[i].Spec.Counts {
			spec.Datasets[i].Spec.Counts[split] = max(5, min(n/10, 200))
		}
	}
	for i := range spec.Models {
		spec.Models[i].Train.Steps = 4
	}
	spec.Eval.Limit = 3
	home := t.TempDir()
	for run := 1; run <= 2; run++ { // the second run restarts on the same database
		var out, errOut bytes.Buffer
		a := &app{out: &out, err: &errOut, home: home}
		ctx, cancel := testContext(t)
		err := runQuickstart(ctx, a, spec)
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v\n%s%s", run, err, out.String(), errOut.String())
		}
		for _, want := range []string{"generate  ok", "train     ok", "eval      ok",
			"EdgeJSON      ", "assistant-50: 50 classes", "ecommerce-100: 100 classes",
			"enterprise-200: 200 classes", "EdgeFuncCall  ", "edgejson@v1", "edgeintent@v1", "edgefunccall@v1",
			"EdgeJSON", "EdgeIntent", "EdgeFuncCall", "Report: ", "Promotion tiny-intent:", "Lineage: ",
			"builtin (offline) teacher", "ollama:"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("run %d: output lacks %q:\n%s", run, want, out.String())
			}
		}
		reused := strings.Contains(out.String(), "Reused (inputs unchanged): dataset edgejson, dataset edgeintent, dataset edgefunccall, train tiny-json, train tiny-intent, train tiny-funccall")
		if reused != (run == 2) {
			t.Errorf("run %d: reuse line present %v:\n%s", run, reused, out.String())
		}
	}
}

// freeTCPPort is a port for a child's `dev --port`, reserved so that no other
// process gets it before the child binds it (worker.ReservePort).
func freeTCPPort(t *testing.T) int {
	t.Helper()
	p, err := worker.ReservePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkWebUI finds the Web UI line in dev's output and checks that the UI
// serves its page and lists a workflow of the given type through its API.
func checkWebUI(t *testing.T, devOut []string, workflowType string) {
	t.Helper()
	var base string
	for _, l := range devOut {
		if _, rest, ok := strings.Cut(l, "Temporal Web UI at "); ok {
			base, _, _ = strings.Cut(rest, "/namespaces/")
		}
	}
	if base == "" {
		t.Fatalf("dev printed no Web UI address: %q", devOut)
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<html") {
		t.Fatalf("web UI page: status %d, %d bytes", resp.StatusCode, len(page))
	}
	resp, err = http.Get(base + "/api/v1/namespaces/default/workflows")
	if err != nil {
		t.Fatal(err)
	}
	api, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(api), `"name": "`+workflowType+`"`) {
		t.Fatalf("web UI API: status %d, body %.300s", resp.StatusCode, api)
	}
}

// serverLog is the tail of the embedded server's log under home, for failure
// messages: the server reports a fatal error (a port it could not bind, say)
// there and exits 1 without a word on stderr.
func serverLog(home string) string {
	b, err := os.ReadFile(filepath.Join(home, "logs", "temporal.log"))
	if err != nil {
		return ""
	}
	const tail = 4 << 10
	if len(b) > tail {
		b = b[len(b)-tail:]
	}
	return "\nembedded server log (tail):\n" + string(b)
}
