package datasets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/schemas"
)

func TestRoundTrip(t *testing.T) {
	big := strings.Repeat("ünïcødé 文字 🙂 ", 1<<20/24) // ~1 MB of multi-byte text
	tests := []struct {
		name  string
		task  schemas.Task
		recs  []Record
		cells map[string]map[string]int // split -> cell -> rows
	}{
		{
			name: "edgejson",
			task: schemas.EdgeJSON,
			recs: exampleRecords(schemas.EdgeJSON, 12),
			cells: map[string]map[string]int{
				"train": {"ecommerce.order_summary": 3, "travel.booking": 3, "health.appointment": 3},
				"test":  {"ecommerce.order_summary": 1, "travel.booking": 1, "health.appointment": 1},
			},
		},
		{
			name: "edgeintent",
			task: schemas.EdgeIntent,
			recs: exampleRecords(schemas.EdgeIntent, 8),
			cells: map[string]map[string]int{
				"train": {"set_timer": 2, "play_music": 2, "weather_query": 2},
				"test":  {"lights_on": 2},
			},
		},
		{
			name: "edgefunccall",
			task: schemas.EdgeFuncCall,
			recs: exampleRecords(schemas.EdgeFuncCall, 4),
			cells: map[string]map[string]int{
				"train": {"lights_turn_on/single_turn": 2, "thermostat_set/multi_turn": 1},
				"test":  {"thermostat_set/multi_turn": 1},
			},
		},
		{
			name: "1MB inputs and a custom split",
			task: schemas.EdgeIntent,
			recs: func() []Record {
				recs := exampleRecords(schemas.EdgeIntent, 3)
				recs[0].Input = big
				recs[1].Input = big + "x"
				recs[2].Split = "dev_2"
				recs[2].Target = `{"intent":"` + strings.Repeat("é", 1000) + `"}`
				return recs
			}(),
			cells: map[string]map[string]int{
				"train": {"set_timer": 1, "play_music": 1},
				"dev_2": {"weather_query": 1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			m := commitVersion(t, s, tt.task, "", tt.recs)
			if m.Version != "v1" || m.Task != string(tt.task) || m.FormatVersion != FormatVersion {
				t.Errorf("manifest = %s@%s format %d, want %s@v1 format %d", m.Task, m.Version, m.FormatVersion, tt.task, FormatVersion)
			}
			v, err := s.Version(tt.task, "latest")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v.Manifest(), m) {
				t.Errorf("manifest on disk differs from Commit's:\n%+v\n%+v", v.Manifest(), m)
			}
			want := bySplit(tt.recs)
			if len(m.Splits) != len(want) {
				t.Errorf("splits = %v, want %d splits", m.SplitNames(), len(want))
			}
			for split, recs := range want {
				got, err := v.Read(split)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, recs) {
					t.Errorf("split %s: read back differs (%d vs %d rows)", split, len(got), len(recs))
					for i := range min(len(got), len(recs)) {
						if !reflect.DeepEqual(got[i], recs[i]) {
							t.Errorf("row %d:\n got %.300v\nwant %.300v", i, got[i], recs[i])
							break
						}
					}
				}
				info := m.Splits[split]
				if info.Rows != len(recs) || info.File != split+".parquet" {
					t.Errorf("split %s: rows %d file %q, want %d %q", split, info.Rows, info.File, len(recs), split+".parquet")
				}
				if !reflect.DeepEqual(info.Cells, tt.cells[split]) {
					t.Errorf("split %s: cells = %v, want %v", split, info.Cells, tt.cells[split])
				}
				data, err := os.ReadFile(filepath.Join(v.Dir(), info.File))
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(data)
				if hex.EncodeToString(sum[:]) != info.SHA256 || int64(len(data)) != info.Bytes {
					t.Errorf("split %s: manifest sha256 %s bytes %d, file has %x %d", split, info.SHA256, info.Bytes, sum, len(data))
				}
			}
			if err := v.Verify(); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func TestRowGroupsAndScan(t *testing.T) {
	s := openStore(t)
	w, err := s.Create(schemas.EdgeIntent, "")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	w.maxRows = 100 // many row groups, each flushed as soon as it is full
	recs := exampleRecords(schemas.EdgeIntent, 1000)
	for i := 0; i < len(recs); i += 37 {
		if err := w.Write(recs[i:min(i+37, len(recs))]...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(CommitInfo{}); err != nil {
		t.Fatal(err)
	}
	v, err := s.Version(schemas.EdgeIntent, "v1")
	if err != nil {
		t.Fatal(err)
	}
	want := bySplit(recs)["train"]
	i := 0
	err = v.Scan("train", func(r Record) error {
		if r.ID != want[i].ID {
			return errors.New("out of order: " + r.ID + " != " + want[i].ID)
		}
		i++
		return nil
	})
	if err != nil || i != len(want) {
		t.Fatalf("scan: %v after %d rows, want %d rows", err, i, len(want))
	}
	stop := errors.New("stop")
	if err := v.Scan("train", func(Record) error { return stop }); err != stop {
		t.Errorf("Scan returned %v, want the callback's error as is", err)
	}
}

func TestOptionalColumnsReadBackEmpty(t *testing.T) {
	// A NULL in an optional column must not leak the previous row's value.
	s := openStore(t)
	recs := exampleRecords(schemas.EdgeIntent, 300)
	for i := range recs {
		recs[i].Split = "train"
		if i%2 == 1 {
			recs[i].Intent, recs[i].SoftLabels = "", ""
		}
	}
	commitVersion(t, s, schemas.EdgeIntent, "", recs)
	v, err := s.Version(schemas.EdgeIntent, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Read("train")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Errorf("optional columns did not round trip")
	}
}

func TestExportJSONL(t *testing.T) {
	s := openStore(t)
	recs := exampleRecords(schemas.EdgeFuncCall, 8)
	commitVersion(t, s, schemas.EdgeFuncCall, "", recs)
	v, err := s.Version(schemas.EdgeFuncCall, "")
	if err != nil {
		t.Fatal(err)
	}
	split := bySplit(recs)
	tests := []struct {
		split string
		want  []Record
	}{
		{"test", split["test"]},
		{"train", split["train"]},
		{"", append(append([]Record{}, split["test"]...), split["train"]...)}, // manifest order: sorted
	}
	for _, tt := range tests {
		t.Run("split="+tt.split, func(t *testing.T) {
			var buf bytes.Buffer
			if err := v.ExportJSONL(&buf, tt.split); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("%d lines, want %d", len(lines), len(tt.want))
			}
			for i, line := range lines {
				var got Record
				if err := json.Unmarshal([]byte(line), &got); err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				if !reflect.DeepEqual(got, tt.want[i]) {
					t.Errorf("line %d = %+v, want %+v", i, got, tt.want[i])
				}
			}
			if strings.Contains(buf.String(), `\u003c`) || !strings.Contains(lines[0], `"target":"[{\"name\"`) {
				t.Errorf("unexpected JSON form: %s", lines[0])
			}
		})
	}
	if err := v.ExportJSONL(&bytes.Buffer{}, "dev"); err == nil || !strings.Contains(err.Error(), "splits are test, train") {
		t.Errorf("export unknown split = %v", err)
	}
}

func TestShards(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "batch-0001.parquet")
	recs := append(exampleRecords(schemas.EdgeJSON, 3), exampleRecords(schemas.EdgeIntent, 3)...)
	if err := WriteShard(path, recs); err != nil {
		t.Fatal(err)
	}
	got, err := ReadShard(path)
	if err != nil || !reflect.DeepEqual(got, recs) {
		t.Fatalf("ReadShard = %d records, %v; want %d equal records", len(got), err, len(recs))
	}
	// Replacing a shard is atomic and leaves no temp file.
	if err := WriteShard(path, recs[:1]); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadShard(path); err != nil || len(got) != 1 {
		t.Errorf("after replace: %d records, %v", len(got), err)
	}
	bad := append([]Record{}, recs...)
	bad[2].Task = "edgevision"
	if err := WriteShard(path, bad); err == nil || !strings.Contains(err.Error(), "field task") {
		t.Errorf("WriteShard(unknown task) = %v", err)
	}
	if err := WriteShard(path, []Record{recs[0], recs[0]}); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("WriteShard(duplicate) = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("dir has %v, want only the shard", entries)
	}
	if got, err := ReadShard(path); err != nil || len(got) != 1 {
		t.Errorf("failed writes changed the shard: %d records, %v", len(got), err)
	}
}
