package atomicfile

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name string
		perm os.FileMode
		old  bool // a file exists before the write
	}{
		{"new file", 0o644, false},
		{"replaces", 0o644, true},
		{"private", 0o600, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			path := filepath.Join(root, "f.json")
			if tc.old {
				if err := os.WriteFile(path, []byte("old"), 0o666); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFile(path, []byte("new"), tc.perm); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if data, _ := os.ReadFile(path); string(data) != "new" {
				t.Errorf("content %q, want %q", data, "new")
			}
			if fi.Mode().Perm() != tc.perm {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), tc.perm)
			}
			assertOnly(t, root, "f.json")
		})
	}
}

func TestWriteFailureKeepsOld(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "f")
	if err := WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, 0o644, func(f *os.File) error {
		f.WriteString("partial")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want %v", err, boom)
	}
	if data, _ := os.ReadFile(path); string(data) != "old" {
		t.Errorf("content %q after a failed write, want %q", data, "old")
	}
	assertOnly(t, root, "f")
}

func TestReplaceDir(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		fallback bool  // no RENAME_EXCHANGE
		fillErr  error // what fill returns
		want     map[string]string
	}{
		{"replaces", false, nil, map[string]string{"n": "new"}},
		{"replaces without exchange", true, nil, map[string]string{"n": "new"}},
		{"fill fails", false, boom, map[string]string{"o": "old"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fallback {
				exchangeDirs = func(a, b string) error { return errNoExchange }
				t.Cleanup(func() { exchangeDirs = exchange })
			}
			root := t.TempDir()
			dir := filepath.Join(root, "nested", "ck")
			mustReplaceDir(t, dir, map[string]string{"o": "old"})
			err := ReplaceDir(dir, func(tmp string) error {
				if err := os.WriteFile(filepath.Join(tmp, "n"), []byte("new"), 0o644); err != nil {
					return err
				}
				return tc.fillErr
			})
			if !errors.Is(err, tc.fillErr) {
				t.Fatalf("ReplaceDir = %v, want %v", err, tc.fillErr)
			}
			if files, _ := readTree(t, dir); !maps.Equal(files, tc.want) {
				t.Errorf("directory holds %v, want %v", files, tc.want)
			}
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("stat %s: %v, %v; want mode 0755", dir, fi, err)
			}
			assertOnly(t, filepath.Dir(dir), "ck")
		})
	}
}

func TestReplaceDirNotDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := ReplaceDir(path, func(string) error { return nil })
	if !errors.Is(err, ErrNotDir) {
		t.Fatalf("ReplaceDir over a file = %v, want %v", err, ErrNotDir)
	}
}

// assertOnly fails unless dir holds exactly the entry name.
func assertOnly(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != name {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s holds %q, want only %q", dir, names, name)
	}
}
