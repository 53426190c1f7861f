package softlabel_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/generator/softlabel"
	"github.com/cyclecore/mlmforge/schemas"
)

// byteTokenizer encodes text as bytes: enough for encoder examples.
type byteTokenizer struct{}

func (byteTokenizer) Encode(text string) []int {
	ids := make([]int, len(text))
	for i := range len(text) {
		ids[i] = int(text[i]) + 2
	}
	return ids
}
func (byteTokenizer) FormatChat(_, _, _ string) ([]int, int) { return nil, 0 }
func (byteTokenizer) PadID() int                             { return 0 }
func (byteTokenizer) EOSID() int                             { return 1 }
func (byteTokenizer) VocabSize() int                         { return 258 }
func (byteTokenizer) Save(string) error                      { return nil }

// fixedLabeler gives every record the same distribution over two classes.
type fixedLabeler struct{ a, b string }

func (f fixedLabeler) SoftLabels(context.Context, softlabel.Request) (map[string]float64, error) {
	return map[string]float64{f.a: 0.7, f.b: 0.3}, nil
}

// The trainer reads what AnnotateSoftLabels writes: its Soft vectors are the
// teacher's distributions over its class ids.
func TestSoftLabelsFeedTheTrainer(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	tax, err := cat.Taxonomy("assistant-50")
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]datasets.Record, 6)
	for i := range recs {
		c := tax.Classes[i%3].ID
		recs[i] = datasets.Record{ID: fmt.Sprint("r", i), Task: string(schemas.EdgeIntent), Split: "train",
			Input: fmt.Sprint("utterance ", i), Target: `{"intent":"` + c + `"}`, Intent: c}
	}
	builtin := builtin.New(cat)
	if _, err := softlabel.Annotate(context.Background(), builtin, tax, recs[:3], softlabel.AnnotateOptions{}); err != nil {
		t.Fatal(err)
	}
	a, b := tax.Classes[0].ID, tax.Classes[1].ID
	if _, err := softlabel.Annotate(context.Background(), fixedLabeler{a, b}, tax, recs[3:], softlabel.AnnotateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels, err := train.Labels(recs)
	if err != nil {
		t.Fatal(err)
	}
	data, err := train.BuildData(train.DataSpec{Arch: model.ArchEncoder, SeqLen: 32, Tokenizer: byteTokenizer{}, Labels: labels}, recs)
	if err != nil {
		t.Fatal(err)
	}
	index := map[string]int{}
	for i, l := range labels {
		index[l] = i
	}
	for i, ex := range data.Examples {
		want := make([]float32, len(labels))
		if i < 3 {
			want[index[recs[i].Intent]] = 1
		} else {
			want[index[a]], want[index[b]] = 0.7, 0.3
		}
		for c := range want {
			if math.Abs(float64(ex.Soft[c]-want[c])) > 1e-6 {
				t.Fatalf("example %s: soft %v, want %v (labels %v)", ex.ID, ex.Soft, want, labels)
			}
		}
	}
}
