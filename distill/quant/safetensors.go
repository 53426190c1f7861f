package quant

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/cyclecore/mlmforge/distill/infer"
	"github.com/cyclecore/mlmforge/distill/model"
)

// Safetensors dtypes of an INT8 weights file, by their standard names.
const (
	// DTypeI8 is a signed 8-bit integer tensor: the quantized matrices.
	DTypeI8 = "I8"
	// DTypeF32 is a float32 tensor: the per-row scales, norms and biases.
	DTypeF32 = model.DTypeF32
)

// ScaleSuffix names the per-row scale tensor of a quantized matrix: the F32 tensor
// "<name>.scale" of shape [rows] belongs to the I8 tensor "<name>" of shape [rows, cols].
const ScaleSuffix = ".scale"

// maxHeaderLen bounds the JSON header as model's reader and the reference
// implementation do (100 MB): a corrupt length field must not allocate gigabytes.
const maxHeaderLen = 100 << 20

// entry is one tensor of the safetensors JSON header.
type entry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// blob is one tensor to write: its header entry and its little-endian bytes.
type blob struct {
	name  string
	dtype string
	shape []int
	data  []byte
}

// encode writes q in the safetensors format: the 8-byte header length, the JSON
// header padded with spaces to a multiple of 8 bytes, then the data. F32 tensors
// (scales, norms, biases) come first and I8 matrices after them, each group in name
// order, as the reference writer orders tensors by alignment: every F32 tensor then
// starts 4-byte aligned, without padding between tensors (which the format forbids).
func encode(w io.Writer, q infer.QuantizedWeights, metadata map[string]string) error {
	var f32, i8 []blob
	for _, name := range slices.Sorted(maps.Keys(q.Float)) {
		t := q.Float[name]
		if strings.HasSuffix(name, ScaleSuffix) {
			return fmt.Errorf("tensor %s: the %q suffix is reserved for scales", name, ScaleSuffix)
		}
		if t == nil || len(t.Data) != numel(t.Shape) {
			return fmt.Errorf("tensor %s: nil or not shaped %v", name, shapeOf(t))
		}
		f32 = append(f32, blob{name, DTypeF32, t.Shape, f32Bytes(t.Data)})
	}
	for _, name := range slices.Sorted(maps.Keys(q.Int8)) {
		t := q.Int8[name]
		if _, dup := q.Float[name]; dup {
			return fmt.Errorf("tensor %s: both int8 and float32", name)
		}
		if t == nil || len(t.Shape) != 2 || len(t.Data) != numel(t.Shape) || len(t.Scales) != t.Shape[0] {
			return fmt.Errorf("tensor %s: want a [rows, cols] int8 matrix with one scale per row", name)
		}
		f32 = append(f32, blob{name + ScaleSuffix, DTypeF32, []int{t.Shape[0]}, f32Bytes(t.Scales)})
		data := make([]byte, len(t.Data))
		for i, v := range t.Data {
			data[i] = byte(v)
		}
		i8 = append(i8, blob{name, DTypeI8, t.Shape, data})
	}
	sort.SliceStable(f32, func(i, j int) bool { return f32[i].name < f32[j].name })
	blobs := append(f32, i8...)
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	for _, b := range blobs {
		header[b.name] = entry{DType: b.dtype, Shape: b.shape, Offsets: [2]int64{off, off + int64(len(b.data))}}
		off += int64(len(b.data))
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("encode header: %w", err)
	}
	hj = append(hj, bytes.Repeat([]byte{' '}, (8-len(hj)%8)%8)...)
	if err := binary.Write(w, binary.LittleEndian, uint64(len(hj))); err != nil {
		return err
	}
	if _, err := w.Write(hj); err != nil {
		return err
	}
	for _, b := range blobs {
		if _, err := w.Write(b.data); err != nil {
			return err
		}
	}
	return nil
}

// decode parses a whole INT8 safetensors file held in memory. It checks what the
// reference reader checks (header length, JSON, dtypes, shapes, offsets, and that the
// tensors tile the data section without gaps or overlaps) and then pairs every I8
// matrix with its F32 scales. Errors name the tensor.
func decode(data []byte) (infer.QuantizedWeights, map[string]string, error) {
	var q infer.QuantizedWeights
	entries, meta, body, err := parseHeader(data)
	if err != nil {
		return q, nil, err
	}
	if err := checkTiling(entries, int64(len(body))); err != nil {
		return q, nil, err
	}
	q = infer.QuantizedWeights{Int8: map[string]*infer.QuantizedTensor{}, Float: model.Weights{}}
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		e := entries[name]
		raw := body[e.Offsets[0]:e.Offsets[1]]
		switch {
		case e.DType == DTypeI8:
			qt, err := int8Tensor(name, e, raw, entries, body)
			if err != nil {
				return q, nil, err
			}
			q.Int8[name] = qt
		case strings.HasSuffix(name, ScaleSuffix):
			base := strings.TrimSuffix(name, ScaleSuffix)
			if b, ok := entries[base]; !ok || b.DType != DTypeI8 {
				return q, nil, fmt.Errorf("tensor %s: scales of %s, which is not an %s tensor in this file", name, base, DTypeI8)
			}
		default:
			q.Float[name] = &model.Tensor{Shape: slices.Clone(e.Shape), Data: f32Values(raw)}
		}
	}
	return q, meta, nil
}

// parseHeader splits data into the validated header entries, the metadata and the
// data section.
func parseHeader(data []byte) (map[string]entry, map[string]string, []byte, error) {
	if len(data) < 8 {
		return nil, nil, nil, fmt.Errorf("truncated: %d bytes, need at least the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if n > maxHeaderLen {
		return nil, nil, nil, fmt.Errorf("header length %d exceeds the %d byte limit (corrupt file?)", n, maxHeaderLen)
	}
	if n > uint64(len(data)-8) {
		return nil, nil, nil, fmt.Errorf("truncated: header length %d but only %d bytes follow", n, len(data)-8)
	}
	raw := map[string]json.RawMessage{}
	if err := json.Unmarshal(data[8:8+n], &raw); err != nil {
		return nil, nil, nil, fmt.Errorf("header JSON: %w", err)
	}
	var meta map[string]string
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, nil, nil, fmt.Errorf("header __metadata__: want a map of strings: %w", err)
		}
		delete(raw, "__metadata__")
	}
	body := data[8+n:]
	entries := make(map[string]entry, len(raw))
	for name, r := range raw {
		var e entry
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, nil, nil, fmt.Errorf("tensor %s: header entry: %w", name, err)
		}
		if err := checkEntry(e, int64(len(body))); err != nil {
			return nil, nil, nil, fmt.Errorf("tensor %s: %w", name, err)
		}
		entries[name] = e
	}
	return entries, meta, body, nil
}

// checkEntry validates one header entry against the data section's length.
func checkEntry(e entry, bodyLen int64) error {
	size := int64(0)
	switch e.DType {
	case DTypeI8:
		size = 1
	case DTypeF32:
		size = 4
	default:
		return fmt.Errorf("dtype %q: an INT8 checkpoint holds only %s and %s", e.DType, DTypeI8, DTypeF32)
	}
	n := int64(1)
	for _, s := range e.Shape {
		if s < 0 || s > math.MaxInt32 {
			return fmt.Errorf("shape %v: bad dimension %d", e.Shape, s)
		}
		n *= int64(s)
		if n > bodyLen {
			return fmt.Errorf("shape %v: more values than the %d-byte data section holds", e.Shape, bodyLen)
		}
	}
	b, end := e.Offsets[0], e.Offsets[1]
	if b < 0 || end < b || end > bodyLen {
		return fmt.Errorf("data_offsets [%d, %d] outside the %d-byte data section", b, end, bodyLen)
	}
	if end-b != n*size {
		return fmt.Errorf("data_offsets [%d, %d] hold %d bytes, %s %v needs %d", b, end, end-b, e.DType, e.Shape, n*size)
	}
	return nil
}

// checkTiling checks that the tensors cover the data section exactly, in some order.
func checkTiling(entries map[string]entry, bodyLen int64) error {
	names := slices.Collect(maps.Keys(entries))
	sort.Slice(names, func(i, j int) bool { // empty tensors first at a shared offset
		a, b := entries[names[i]].Offsets, entries[names[j]].Offsets
		return a[0] < b[0] || a[0] == b[0] && (a[1] < b[1] || a[1] == b[1] && names[i] < names[j])
	})
	var at int64
	for _, name := range names {
		o := entries[name].Offsets
		if o[0] != at {
			return fmt.Errorf("tensor %s: data starts at %d, expected %d (gap or overlap)", name, o[0], at)
		}
		at = o[1]
	}
	if at != bodyLen {
		return fmt.Errorf("data section is %d bytes but the tensors cover %d", bodyLen, at)
	}
	return nil
}

// int8Tensor builds the quantized matrix name from its I8 bytes and its scale tensor,
// which must exist, be F32 [rows] and hold finite non-negative scales.
func int8Tensor(name string, e entry, raw []byte, entries map[string]entry, body []byte) (*infer.QuantizedTensor, error) {
	if len(e.Shape) != 2 {
		return nil, fmt.Errorf("tensor %s: %s shape %v: want [rows, cols]", name, DTypeI8, e.Shape)
	}
	se, ok := entries[name+ScaleSuffix]
	switch {
	case !ok:
		return nil, fmt.Errorf("tensor %s: no %s%s tensor with its per-row scales", name, name, ScaleSuffix)
	case se.DType != DTypeF32 || !slices.Equal(se.Shape, e.Shape[:1]):
		return nil, fmt.Errorf("tensor %s%s: %s %v, want %s [%d] (one scale per row)",
			name, ScaleSuffix, se.DType, se.Shape, DTypeF32, e.Shape[0])
	}
	scales := f32Values(body[se.Offsets[0]:se.Offsets[1]])
	for r, s := range scales {
		if !(s >= 0) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("tensor %s%s: row %d scale %g: want finite and >= 0", name, ScaleSuffix, r, s)
		}
	}
	q := &infer.QuantizedTensor{Shape: slices.Clone(e.Shape), Data: make([]int8, len(raw)), Scales: scales}
	for i, b := range raw {
		q.Data[i] = int8(b)
	}
	return q, nil
}

// f32Bytes encodes float32 values little-endian.
func f32Bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// f32Values decodes little-endian float32 values.
func f32Values(b []byte) []float32 {
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

// numel is the element count of a shape (1 for a scalar).
func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// shapeOf is t's shape, nil for a nil tensor (for error messages).
func shapeOf(t *model.Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape
}
