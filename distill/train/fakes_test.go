package train

import (
	"fmt"
	"math"
	"os"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/model"
)

// Byte tokenizer ids beyond the 256 bytes.
const (
	bytePad     = 256
	byteEOS     = 257
	byteImStart = 258
	byteImEnd   = 259
	byteVocab   = 260
)

// byteTok is a byte-level tokenizer with ChatML markers, enough to exercise the data path.
type byteTok struct{}

var _ Tokenizer = byteTok{}

func (byteTok) Encode(s string) []int {
	ids := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		ids[i] = int(s[i])
	}
	return ids
}

func (t byteTok) FormatChat(system, user, reply string) ([]int, int) {
	var ids []int
	for _, m := range [][2]string{{"system", system}, {"user", user}} {
		ids = append(ids, byteImStart)
		ids = append(ids, t.Encode(m[0]+"\n"+m[1])...)
		ids = append(ids, byteImEnd)
		ids = append(ids, t.Encode("\n")...)
	}
	ids = append(ids, byteImStart)
	ids = append(ids, t.Encode("assistant\n")...)
	return append(ids, t.Encode(reply)...), len(ids)
}

func (byteTok) PadID() int     { return bytePad }
func (byteTok) EOSID() int     { return byteEOS }
func (byteTok) VocabSize() int { return byteVocab }
func (byteTok) Save(path string) error {
	return os.WriteFile(path, []byte(`{"model":{"type":"bytes"}}`), 0o644)
}

// fakeConfig is a valid tiny config over the byte vocabulary. The fake model only uses
// the embedding and the head; the block tensors exist so checkpoints are complete.
func fakeConfig(arch string, classes int) model.Config {
	c := model.Config{Arch: arch, Vocab: byteVocab, Hidden: 8, Layers: 1, Heads: 2, KVHeads: 1, Intermediate: 8,
		MaxSeq: 512, RopeTheta: 10000, NormEps: 1e-5}
	if arch == model.ArchEncoder {
		c.NumClasses, c.Pooling = classes, model.PoolMean
	}
	return c
}

// fakeModel is a plain-Go model with exact gradients. Encoder: mean-pooled embeddings,
// then classifier.weight/bias and softmax cross-entropy against the label (or the soft
// distribution). Decoder: logits = lm_head · embed[token] at every target position.
type fakeModel struct {
	cfg    model.Config
	params []model.Param
	idx    map[string]int
}

var _ Model = (*fakeModel)(nil)

func newFakeModel(cfg model.Config, seed uint64) *fakeModel {
	w := model.Init(cfg, seed)
	m := &fakeModel{cfg: cfg, idx: map[string]int{}}
	for _, ps := range cfg.Params() {
		m.idx[ps.Name] = len(m.params)
		m.params = append(m.params, model.Param{Name: ps.Name, Shape: ps.Shape, Data: w[ps.Name].Data,
			Grad: make([]float32, ps.Size())})
	}
	return m
}

func (m *fakeModel) p(name string) *model.Param          { return &m.params[m.idx[name]] }
func (m *fakeModel) Params() []model.Param               { return m.params }
func (m *fakeModel) Loss(b model.Batch) (float64, error) { return m.forward(b, false) }
func (m *fakeModel) ForwardBackward(b model.Batch) (float64, error) {
	return m.forward(b, true)
}

func (m *fakeModel) forward(b model.Batch, grad bool) (float64, error) {
	if len(b.Tokens) != b.B*b.T {
		return 0, fmt.Errorf("fake: %d tokens for B=%d T=%d", len(b.Tokens), b.B, b.T)
	}
	if m.cfg.Arch == model.ArchEncoder {
		return m.encoder(b, grad), nil
	}
	return m.decoder(b, grad), nil
}

// softmaxCE returns -sum q log softmax(z) and p - q (the gradient w.r.t. z).
func softmaxCE(z, q []float64) (float64, []float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v)
	}
	var s float64
	for _, v := range z {
		s += math.Exp(v - mx)
	}
	lse := mx + math.Log(s)
	var loss float64
	d := make([]float64, len(z))
	for i, v := range z {
		loss -= q[i] * (v - lse)
		d[i] = math.Exp(v-lse) - q[i]
	}
	return loss, d
}

func (m *fakeModel) encoder(b model.Batch, grad bool) float64 {
	d, C := m.cfg.Hidden, m.cfg.NumClasses
	E, W, bias := m.p("model.embed_tokens.weight"), m.p("classifier.weight"), m.p("classifier.bias")
	var total float64
	for r := 0; r < b.B; r++ {
		h := make([]float64, d)
		var toks []int
		for t := 0; t < b.T; t++ {
			if b.Valid == nil || b.Valid[r*b.T+t] != 0 {
				toks = append(toks, int(b.Tokens[r*b.T+t]))
			}
		}
		for _, tok := range toks {
			for j := 0; j < d; j++ {
				h[j] += float64(E.Data[tok*d+j]) / float64(len(toks))
			}
		}
		z, q := make([]float64, C), make([]float64, C)
		for c := 0; c < C; c++ {
			z[c] = float64(bias.Data[c])
			for j := 0; j < d; j++ {
				z[c] += float64(W.Data[c*d+j]) * h[j]
			}
			if b.Soft != nil {
				q[c] = float64(b.Soft[r*C+c])
			}
		}
		if b.Soft == nil {
			q[b.Labels[r]] = 1
		}
		loss, dz := softmaxCE(z, q)
		total += loss / float64(b.B)
		if !grad {
			continue
		}
		dh := make([]float64, d)
		for c := 0; c < C; c++ {
			g := dz[c] / float64(b.B)
			bias.Grad[c] += float32(g)
			for j := 0; j < d; j++ {
				W.Grad[c*d+j] += float32(g * h[j])
				dh[j] += g * float64(W.Data[c*d+j])
			}
		}
		for _, tok := range toks {
			for j := 0; j < d; j++ {
				E.Grad[tok*d+j] += float32(dh[j] / float64(len(toks)))
			}
		}
	}
	return total
}

func (m *fakeModel) decoder(b model.Batch, grad bool) float64 {
	d, V := m.cfg.Hidden, m.cfg.Vocab
	E, H := m.p("model.embed_tokens.weight"), m.p("lm_head.weight")
	n := 0
	for _, tg := range b.Targets {
		if tg >= 0 {
			n++
		}
	}
	var total float64
	z, q := make([]float64, V), make([]float64, V)
	for i, tg := range b.Targets {
		if tg < 0 {
			continue
		}
		tok := int(b.Tokens[i])
		x := E.Data[tok*d : (tok+1)*d]
		for v := 0; v < V; v++ {
			var s float64
			for j := 0; j < d; j++ {
				s += float64(H.Data[v*d+j]) * float64(x[j])
			}
			z[v], q[v] = s, 0
		}
		q[tg] = 1
		loss, dz := softmaxCE(z, q)
		total += loss / float64(n)
		if !grad {
			continue
		}
		dx := make([]float64, d)
		for v := 0; v < V; v++ {
			g := dz[v] / float64(n)
			for j := 0; j < d; j++ {
				H.Grad[v*d+j] += float32(g * float64(x[j]))
				dx[j] += g * float64(H.Data[v*d+j])
			}
		}
		for j := 0; j < d; j++ {
			E.Grad[tok*d+j] += float32(dx[j])
		}
	}
	return total
}

// hookModel wraps a Model, letting a test replace its methods.
type hookModel struct {
	Model
	fb   func(b model.Batch) (float64, error)
	loss func(b model.Batch) (float64, error)
}

func (h *hookModel) ForwardBackward(b model.Batch) (float64, error) {
	if h.fb != nil {
		return h.fb(b)
	}
	return h.Model.ForwardBackward(b)
}

func (h *hookModel) Loss(b model.Batch) (float64, error) {
	if h.loss != nil {
		return h.loss(b)
	}
	return h.Model.Loss(b)
}

// intentRecords makes n deterministic EdgeIntent records over three classes.
func intentRecords(n int, split string) []datasets.Record {
	classes := []struct{ name, text string }{
		{"set_alarm", "wake me up at %d am please"},
		{"play_music", "play some jazz number %d"},
		{"get_weather", "what is the weather like in city %d"},
	}
	recs := make([]datasets.Record, n)
	for i := range recs {
		c := classes[i%len(classes)]
		recs[i] = datasets.Record{ID: fmt.Sprintf("%s-%03d", split, i), Task: "edgeintent", Split: split,
			Input: fmt.Sprintf(c.text, i), Target: fmt.Sprintf(`{"intent": %q}`, c.name), Variant: "assistant-3",
			Intent: c.name, Cell: c.name}
	}
	return recs
}
