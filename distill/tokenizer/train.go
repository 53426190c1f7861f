package tokenizer

import (
	"container/heap"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
)

// TrainConfig configures Train.
type TrainConfig struct {
	// VocabSize is the final vocabulary size, special tokens and the 256 bytes
	// included. Training stops earlier when no pair is left to merge.
	VocabSize int `json:"vocab_size"`
	// SpecialTokens get ids 0, 1, ... in this order (e.g. DefaultSpecialTokens).
	// In the corpus they are recognised and never merged with text.
	SpecialTokens []string `json:"special_tokens"`
	// MinFrequency stops training when the most frequent pair occurs fewer times.
	MinFrequency int `json:"min_frequency"`
	// PreTokenizer splits the corpus into words; the zero value means
	// SmolLM2PreTokenizer.
	PreTokenizer PreTokenizer `json:"pre_tokenizer"`
}

// Train learns a byte-level BPE vocabulary from corpus (use slices.Values for
// a []string). It is the standard algorithm with incremental pair counts, as in
// Hugging Face's BpeTrainer: the most frequent pair of adjacent symbols,
// counted over the distinct pre-tokenized words weighted by their frequency,
// is merged until the vocabulary is full. Ties go to the pair with the
// smallest (left id, right id), so the result depends on the corpus and the
// config only.
func Train(corpus iter.Seq[string], cfg TrainConfig) (*Tokenizer, error) {
	if cfg.PreTokenizer == (PreTokenizer{}) {
		cfg.PreTokenizer = SmolLM2PreTokenizer()
	}
	vocab, added, err := trainBase(cfg)
	if err != nil {
		return nil, err
	}
	words := countWords(corpus, cfg.PreTokenizer, added)
	tr := newTrainer(vocab, words)
	merges := tr.run(cfg.VocabSize, max(cfg.MinFrequency, 1))
	return New(tr.tokens, merges, added, cfg.PreTokenizer)
}

// trainBase returns the initial vocabulary: the special tokens, then the 256
// bytes in the order of their byte-level characters (GPT-2's and Hugging
// Face's order).
func trainBase(cfg TrainConfig) ([]string, []AddedToken, error) {
	var vocab []string
	var added []AddedToken
	for i, s := range cfg.SpecialTokens {
		if s == "" || slices.Contains(cfg.SpecialTokens[:i], s) {
			return nil, nil, fmt.Errorf("train: special_tokens[%d] %q is empty or repeated", i, s)
		}
		added = append(added, AddedToken{ID: i, Content: s, Special: true})
		vocab = append(vocab, s)
	}
	if minSize := len(vocab) + 256; cfg.VocabSize < minSize {
		return nil, nil, fmt.Errorf("train: vocab_size %d is below the %d special tokens + 256 bytes", cfg.VocabSize, len(vocab))
	}
	bytes := make([]int, 256)
	for b := range bytes {
		bytes[b] = b
	}
	slices.SortFunc(bytes, func(x, y int) int { return int(byteToRune[x]) - int(byteToRune[y]) })
	for _, b := range bytes {
		vocab = append(vocab, string([]byte{byte(b)}))
	}
	return vocab, added, nil
}

// countWords returns the frequency of every pre-tokenized word of corpus, with
// the added tokens cut out first.
func countWords(corpus iter.Seq[string], pre PreTokenizer, added []AddedToken) map[string]int64 {
	counts := map[string]int64{}
	add := func(w string) {
		if c, ok := counts[w]; ok {
			counts[w] = c + 1
		} else {
			counts[strings.Clone(w)] = 1
		}
	}
	splitter := &Tokenizer{added: added}
	for line := range corpus {
		for line != "" {
			pos, _, n := splitter.nextAdded(line)
			if pos < 0 {
				break
			}
			pre.split(line[:pos], add)
			line = line[pos+n:]
		}
		pre.split(line, add)
	}
	return counts
}

// trainPair is a heap entry: a pair and its count when pushed. Entries go stale
// when the count changes; run re-checks them when they surface.
type trainPair struct {
	count int64
	a, b  int32
}

// pairHeap pops the largest count first, then the smallest (a, b). This is a
// strict order on distinct pairs, so the pop order never depends on the order
// of pushes (or of the map ranges that feed them).
type pairHeap []trainPair

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	x, y := h[i], h[j]
	if x.count != y.count {
		return x.count > y.count
	}
	if x.a != y.a {
		return x.a < y.a
	}
	return x.b < y.b
}
func (h pairHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(trainPair)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// trainer holds the BPE training state.
type trainer struct {
	// tokens is the vocabulary so far (raw bytes by id); ids inverts it.
	tokens []string
	ids    map[string]int32
	// words are the distinct words as symbol ids, freq their counts.
	words [][]int32
	freq  []int64
	// counts is the weighted count of each adjacent pair; where lists the words
	// that contained the pair when it last grew (stale and repeated entries
	// allowed: merging in a word without the pair changes nothing).
	counts map[uint64]int64
	where  map[uint64][]int32
	heap   pairHeap
	// grown collects the pairs whose count rose during one merge.
	grown []uint64
}

func newTrainer(vocab []string, words map[string]int64) *trainer {
	tr := &trainer{tokens: vocab, ids: map[string]int32{}, counts: map[uint64]int64{}, where: map[uint64][]int32{}}
	for id, tok := range vocab {
		tr.ids[tok] = int32(id)
	}
	keys := slices.Sorted(maps.Keys(words))
	for wi, w := range keys {
		syms := make([]int32, len(w))
		for i := 0; i < len(w); i++ {
			syms[i] = tr.ids[w[i:i+1]]
		}
		tr.words = append(tr.words, syms)
		tr.freq = append(tr.freq, words[w])
		for i := 0; i+1 < len(syms); i++ {
			tr.change(syms[i], syms[i+1], words[w], int32(wi))
		}
	}
	for k, c := range tr.counts {
		tr.heap = append(tr.heap, trainPair{count: c, a: int32(k >> 32), b: int32(uint32(k))})
	}
	heap.Init(&tr.heap)
	tr.grown = tr.grown[:0]
	return tr
}

// change adds delta to the count of pair (a, b) seen in word wi.
func (tr *trainer) change(a, b int32, delta int64, wi int32) {
	k := pairKey(a, b)
	tr.counts[k] += delta
	if delta > 0 {
		if ws := tr.where[k]; len(ws) == 0 || ws[len(ws)-1] != wi {
			tr.where[k] = append(ws, wi)
		}
		tr.grown = append(tr.grown, k)
	}
}

// run merges pairs until the vocabulary has size tokens or the best pair
// occurs fewer than minFreq times, and returns the merges in rank order.
func (tr *trainer) run(size, minFreq int) [][2]string {
	var merges [][2]string
	for len(tr.tokens) < size && tr.heap.Len() > 0 {
		top := heap.Pop(&tr.heap).(trainPair)
		k := pairKey(top.a, top.b)
		if cur := tr.counts[k]; cur != top.count {
			if cur > 0 {
				heap.Push(&tr.heap, trainPair{count: cur, a: top.a, b: top.b})
			}
			continue
		}
		if top.count < int64(minFreq) {
			break
		}
		left, right := tr.tokens[top.a], tr.tokens[top.b]
		merges = append(merges, [2]string{left, right})
		// Two pairs can spell the same token ("ab"+"c", "a"+"bc"); like
		// Hugging Face, the second merge reuses the first one's id.
		id, ok := tr.ids[left+right]
		if !ok {
			id = int32(len(tr.tokens))
			tr.tokens = append(tr.tokens, left+right)
			tr.ids[left+right] = id
		}
		tr.mergeWords(top.a, top.b, id, k)
	}
	return merges
}

// mergeWords replaces (a, b) by id in every word holding it, updating the pair
// counts, and pushes the pairs that grew.
func (tr *trainer) mergeWords(a, b, id int32, k uint64) {
	ws := tr.where[k]
	delete(tr.where, k)
	slices.Sort(ws)
	ws = slices.Compact(ws)
	tr.grown = tr.grown[:0]
	for _, wi := range ws {
		tr.words[wi] = tr.mergeWord(tr.words[wi], a, b, id, tr.freq[wi], wi)
	}
	delete(tr.counts, k)
	slices.Sort(tr.grown)
	for _, g := range slices.Compact(tr.grown) {
		if c := tr.counts[g]; c > 0 {
			heap.Push(&tr.heap, trainPair{count: c, a: int32(g >> 32), b: int32(uint32(g))})
		}
	}
}

// mergeWord merges (a, b) into id left to right in one word, recording how the
// neighbouring pairs change (Hugging Face's Word::merge).
func (tr *trainer) mergeWord(s []int32, a, b, id int32, f int64, wi int32) []int32 {
	for i := 0; i+1 < len(s); i++ {
		if s[i] != a || s[i+1] != b {
			continue
		}
		if i > 0 {
			tr.change(s[i-1], a, -f, wi)
			tr.change(s[i-1], id, f, wi)
		}
		tr.change(a, b, -f, wi)
		if i+2 < len(s) {
			tr.change(b, s[i+2], -f, wi)
			tr.change(id, s[i+2], f, wi)
		}
		s[i] = id
		s = append(s[:i+1], s[i+2:]...)
	}
	return s
}
