package atomicfile

import (
	"bufio"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The child process of TestCrash reads its orders from the environment.
const (
	envOp     = "ATOMICFILE_CRASH_OP"     // "file", "dir" or "dir-fallback"
	envStage  = "ATOMICFILE_CRASH_STAGE"  // the stage at which it stops and waits to be killed
	envTarget = "ATOMICFILE_CRASH_TARGET" // the file or directory it writes
)

// Contents before and after the child's write. The directories differ in their file
// sets as well as their contents, so that a mix of the two shows.
var (
	oldFile = []byte("old content\n")
	newFile = []byte("new content, longer than the old one\n")
	oldDir  = map[string]string{"a.txt": "old a\n", "b.txt": "old b\n", "only-old.txt": "x\n"}
	newDir  = map[string]string{"a.txt": "new a\n", "b.txt": "new b\n", "sub/c.txt": "new c\n"}
)

// TestCrash kills a child process (this test binary, running TestCrashChild) at each
// stage of a write, then checks that the target holds exactly the content that stage
// promises, and that a later write succeeds and leaves nothing but the target behind.
func TestCrash(t *testing.T) {
	tests := []struct {
		op, stage string
		want      string // "old", "new", or "none" (the target is missing)
	}{
		{"file", "file:half", "old"},
		{"file", "file:written", "old"},
		{"file", "file:synced", "old"},
		{"file", "file:renamed", "new"},
		{"dir", "dir:half", "old"},
		{"dir", "dir:filled", "old"},
		{"dir", "dir:synced", "old"},
		{"dir", "dir:swapped", "new"},
		// Without RENAME_EXCHANGE there is an instant with no directory at all.
		{"dir-fallback", "dir:synced", "old"},
		{"dir-fallback", "dir:aside", "none"},
		{"dir-fallback", "dir:swapped", "new"},
	}
	for _, tc := range tests {
		t.Run(tc.op+"/"+tc.stage, func(t *testing.T) {
			root := t.TempDir()
			target := filepath.Join(root, "out")
			isDir := tc.op != "file"
			if isDir {
				mustReplaceDir(t, target, oldDir)
			} else if err := WriteFile(target, oldFile, 0o644); err != nil {
				t.Fatal(err)
			}
			runChildUntil(t, tc.op, tc.stage, target)

			got := "none"
			switch {
			case !isDir:
				if data, err := os.ReadFile(target); err == nil {
					got = map[bool]string{true: "old", false: "new"}[string(data) == string(oldFile)]
					if got == "new" && string(data) != string(newFile) {
						t.Fatalf("after a crash at %s the file holds %q, neither old nor new", tc.stage, data)
					}
				} else if !errors.Is(err, os.ErrNotExist) {
					t.Fatal(err)
				}
			default:
				if files, ok := readTree(t, target); ok {
					switch {
					case maps.Equal(files, oldDir):
						got = "old"
					case maps.Equal(files, newDir):
						got = "new"
					default:
						t.Fatalf("after a crash at %s the directory holds %v, neither old nor new", tc.stage, files)
					}
				}
			}
			if got != tc.want {
				t.Fatalf("after a crash at %s the target is %s, want %s", tc.stage, got, tc.want)
			}

			// A later write must not trip over what the dead child left.
			if isDir {
				later := map[string]string{"later.txt": "later\n"}
				mustReplaceDir(t, target, later)
				if files, _ := readTree(t, target); !maps.Equal(files, later) {
					t.Fatalf("after the later write the directory holds %v, want %v", files, later)
				}
			} else {
				if err := WriteFile(target, []byte("later\n"), 0o644); err != nil {
					t.Fatalf("write after the crash: %v", err)
				}
				if data, _ := os.ReadFile(target); string(data) != "later\n" {
					t.Fatalf("after the later write the file holds %q", data)
				}
			}
			if canDetectStale {
				entries, err := os.ReadDir(root)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				if !slices.Equal(names, []string{"out"}) {
					t.Errorf("after the later write the parent holds %q, want only the target", names)
				}
			}
		})
	}
}

// TestCrashChild is the child process of TestCrash: it writes the target and stops at
// the stage it was given, announcing it on stdout, until it is killed.
func TestCrashChild(t *testing.T) {
	op, stage, target := os.Getenv(envOp), os.Getenv(envStage), os.Getenv(envTarget)
	if stage == "" {
		t.Skip("run as a child process by TestCrash")
	}
	pause := func(s string) {
		if s == stage {
			os.Stdout.WriteString("at " + s + "\n")
			io.Copy(io.Discard, os.Stdin) // the parent never closes it: wait to be killed
		}
	}
	hook = pause
	if op == "dir-fallback" {
		exchangeDirs = func(a, b string) error { return errNoExchange }
	}
	var err error
	if op == "file" {
		err = Write(target, 0o644, func(f *os.File) error {
			half := len(newFile) / 2
			if _, err := f.Write(newFile[:half]); err != nil {
				return err
			}
			pause("file:half")
			_, err := f.Write(newFile[half:])
			return err
		})
	} else {
		err = ReplaceDir(target, func(tmp string) error {
			for i, name := range slices.Sorted(maps.Keys(newDir)) {
				if i == 1 {
					pause("dir:half")
				}
				p := filepath.Join(tmp, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(p, []byte(newDir[name]), 0o644); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Fatalf("stage %s was never reached", stage)
}

// runChildUntil starts TestCrashChild and kills it once it reports reaching stage.
func runChildUntil(t *testing.T, op, stage, target string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), envOp+"="+op, envStage+"="+stage, envTarget+"="+target)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out []string
	for sc := bufio.NewScanner(stdout); sc.Scan(); {
		if sc.Text() == "at "+stage {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait() // "signal: killed", as intended
			return
		}
		out = append(out, sc.Text())
	}
	err = cmd.Wait()
	t.Fatalf("child ended (%v) without reaching %s:\n%s\n%s", err, stage, strings.Join(out, "\n"), stderr.String())
}

// mustReplaceDir replaces dir with files (slash-separated names to contents).
func mustReplaceDir(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	err := ReplaceDir(dir, func(tmp string) error {
		for name, content := range files {
			p := filepath.Join(tmp, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readTree returns the regular files under dir by slash-separated name, and false when
// dir does not exist.
func readTree(t *testing.T, dir string) (map[string]string, bool) {
	t.Helper()
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, false
	}
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, true
}
