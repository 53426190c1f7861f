// Package extproc runs the programs that some tests drive outside the test
// process: node scripts over an npm package (DuckDB reading our Parquet files,
// Hugging Face's tokenizers loading ours) and the test binary itself,
// re-executed as a child process (the CLI, a dev server, a writer to kill).
// Only tests import it.
//
// The tests, not the packages under test, read the environment variables named
// here, because they decide whether an external tool is available.
package extproc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// NodeModule is an npm package that a test drives through a node script, found
// in the node_modules directory that an environment variable names.
type NodeModule struct {
	Env     string // the variable naming a node_modules directory
	Package string // the package that must be in it
	Spec    string // what the suggested `npm install` is given (a version may be pinned)
	Prefix  string // the --prefix of the suggested install
}

// DuckDB is DuckDB's Node API, which reads the Parquet files of datasets and
// eval reports.
var DuckDB = NodeModule{Env: "MLMFORGE_DUCKDB_NODE_MODULES", Package: "@duckdb/node-api",
	Spec: "@duckdb/node-api", Prefix: "/tmp/duckdb"}

// HFTokenizers is Hugging Face's Rust tokenizers through its Node binding.
var HFTokenizers = NodeModule{Env: "MLMFORGE_HF_TOKENIZERS_NODE_MODULES", Package: "tokenizers",
	Spec: "tokenizers@0.23.2", Prefix: "/tmp/hf"}

// Node is a node binary and the node_modules directory its scripts load from.
type Node struct {
	Bin     string // the node binary
	Modules string // the node_modules directory holding the package
}

// Require skips the test unless m.Env is set, telling how to install the
// package, and fails it when the variable is set but the package is not in
// the directory or node is not on PATH.
func (m NodeModule) Require(tb testing.TB) Node {
	tb.Helper()
	modules := os.Getenv(m.Env)
	if modules == "" {
		tb.Skipf("set %s to a node_modules directory holding %s to run: "+
			"npm install --prefix %s %s && %s=%s/node_modules go test %s",
			m.Env, m.Package, m.Prefix, m.Spec, m.Env, m.Prefix, packageDir())
	}
	if _, err := os.Stat(filepath.Join(modules, filepath.FromSlash(m.Package))); err != nil {
		tb.Fatalf("%s=%s: %v (npm install --prefix DIR %s)", m.Env, modules, err, m.Package)
	}
	bin, err := exec.LookPath("node")
	if err != nil {
		tb.Fatalf("%s is set but node is not on PATH: %v", m.Env, err)
	}
	return Node{Bin: bin, Modules: modules}
}

// Script is the absolute path of a script in the test's testdata directory.
func Script(tb testing.TB, name string) string {
	tb.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// Command runs script with node, the node_modules directory as its first
// argument and args after it.
func (n Node) Command(script string, args ...string) *exec.Cmd {
	return exec.Command(n.Bin, append([]string{script, n.Modules}, args...)...)
}

// packageDir is the test's package as `go test` names it from the module
// root ("./datasets/"), or "./..." when the root is not found. A test runs in
// its package's directory.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "./..."
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil {
				return "./..."
			}
			return fmt.Sprintf("./%s/", filepath.ToSlash(rel))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "./..."
		}
		dir = parent
	}
}
