package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"

	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// Safetensors dtypes this package reads. Writing is always F32: training keeps float32
// weights, and F16/BF16 files (Hugging Face exports) are widened on read.
const (
	DTypeF32  = "F32"
	DTypeF16  = "F16"
	DTypeBF16 = "BF16"
)

// maxHeaderLen bounds the JSON header, as the reference implementation does (100 MB),
// so a corrupt length field cannot make us allocate gigabytes.
const maxHeaderLen = 100 << 20

// stEntry is one tensor of the safetensors JSON header.
type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// EncodeSafetensors writes tensors in the safetensors format: an 8-byte little-endian
// header length, a JSON header (tensor name -> dtype, shape, data_offsets, plus the
// "__metadata__" string map) padded with spaces to a multiple of 8 bytes as Hugging
// Face's writer does, then the raw little-endian F32 data of every tensor, in name order.
func EncodeSafetensors(w io.Writer, tensors Weights, metadata map[string]string) error {
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range tensors {
			if !yield(n) {
				return
			}
		}
	})
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	for _, n := range names {
		t := tensors[n]
		if n == "__metadata__" || n == "" {
			return fmt.Errorf("tensor %q: reserved name", n)
		}
		if t == nil {
			return fmt.Errorf("tensor %s: nil", n)
		}
		if numel(t.Shape) != len(t.Data) {
			return fmt.Errorf("tensor %s: %d values for shape %v", n, len(t.Data), t.Shape)
		}
		size := int64(len(t.Data)) * 4
		shape := t.Shape
		if shape == nil {
			shape = []int{} // a scalar: "shape": [] rather than null
		}
		header[n] = stEntry{DType: DTypeF32, Shape: shape, Offsets: [2]int64{off, off + size}}
		off += size
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("encode header: %w", err)
	}
	if pad := (8 - len(hj)%8) % 8; pad > 0 {
		hj = append(hj, bytes.Repeat([]byte{' '}, pad)...)
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hj)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(hj); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, n := range names {
		for _, v := range tensors[n].Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) >= 1<<16 {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	_, err = w.Write(buf)
	return err
}

// DecodeSafetensors parses a whole safetensors file held in memory. F16 and BF16
// tensors are converted to float32. It validates what the reference implementation
// does: the header length, the JSON, every dtype, shape and offset pair, and that the
// tensors exactly tile the data section without gaps or overlaps. Errors name the tensor.
func DecodeSafetensors(data []byte) (Weights, map[string]string, error) {
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("truncated: %d bytes, need at least the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if n > maxHeaderLen {
		return nil, nil, fmt.Errorf("header length %d exceeds the %d byte limit (corrupt file?)", n, maxHeaderLen)
	}
	if n > uint64(len(data)-8) {
		return nil, nil, fmt.Errorf("truncated: header length %d but only %d bytes follow", n, len(data)-8)
	}
	raw := map[string]json.RawMessage{}
	if err := json.Unmarshal(data[8:8+n], &raw); err != nil {
		return nil, nil, fmt.Errorf("header JSON: %w", err)
	}
	var meta map[string]string
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, nil, fmt.Errorf("header __metadata__: want a map of strings: %w", err)
		}
		delete(raw, "__metadata__")
	}
	body := data[8+n:]
	type span struct {
		name       string
		begin, end int64
	}
	spans := make([]span, 0, len(raw))
	w := Weights{}
	for name, r := range raw {
		var e stEntry
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, nil, fmt.Errorf("tensor %s: header entry: %w", name, err)
		}
		t, err := decodeTensor(name, e, body)
		if err != nil {
			return nil, nil, err
		}
		w[name] = t
		spans = append(spans, span{name, e.Offsets[0], e.Offsets[1]})
	}
	sort.Slice(spans, func(i, j int) bool { // empty tensors first at a shared offset
		return spans[i].begin < spans[j].begin || spans[i].begin == spans[j].begin && spans[i].end < spans[j].end
	})
	var at int64
	for _, s := range spans {
		if s.begin != at {
			return nil, nil, fmt.Errorf("tensor %s: data starts at %d, expected %d (gap or overlap)", s.name, s.begin, at)
		}
		at = s.end
	}
	if at != int64(len(body)) {
		return nil, nil, fmt.Errorf("data section is %d bytes but the tensors cover %d", len(body), at)
	}
	return w, meta, nil
}

// dtypeSize is the byte size of one element of a supported dtype (0: unsupported).
func dtypeSize(dtype string) int {
	switch dtype {
	case DTypeF32:
		return 4
	case DTypeF16, DTypeBF16:
		return 2
	}
	return 0
}

// decodeTensor checks one header entry against the data section and converts it.
func decodeTensor(name string, e stEntry, body []byte) (*Tensor, error) {
	size := dtypeSize(e.DType)
	if size == 0 {
		return nil, fmt.Errorf("tensor %s: dtype %q not supported (want F32, F16 or BF16)", name, e.DType)
	}
	count := int64(1)
	for _, d := range e.Shape {
		if d < 0 {
			return nil, fmt.Errorf("tensor %s: negative dimension in shape %v", name, e.Shape)
		}
		count *= int64(d)
		if count > int64(len(body)) {
			return nil, fmt.Errorf("tensor %s: shape %v is larger than the %d-byte data section", name, e.Shape, len(body))
		}
	}
	b, end := e.Offsets[0], e.Offsets[1]
	switch {
	case b < 0 || end < b:
		return nil, fmt.Errorf("tensor %s: invalid data_offsets [%d, %d]", name, b, end)
	case end > int64(len(body)):
		return nil, fmt.Errorf("tensor %s: data_offsets end %d beyond the %d-byte data section (truncated file?)", name, end, len(body))
	case end-b != count*int64(size):
		return nil, fmt.Errorf("tensor %s: %d bytes for shape %v of %s, want %d", name, end-b, e.Shape, e.DType, count*int64(size))
	}
	src := body[b:end]
	out := make([]float32, count)
	switch e.DType {
	case DTypeF32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case DTypeBF16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
		}
	case DTypeF16:
		for i := range out {
			out[i] = F16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	}
	return &Tensor{Shape: slices.Clone(e.Shape), Data: out}, nil
}

// F16ToF32 widens an IEEE 754 half-precision value exactly, subnormals, infinities
// and NaN included.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac * 2^-24
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// ReadSafetensors reads a safetensors file (for example a Hugging Face
// model.safetensors); errors name the file and, where it applies, the tensor.
func ReadSafetensors(path string) (Weights, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read safetensors: %w", err)
	}
	w, meta, err := DecodeSafetensors(data)
	if err != nil {
		return nil, nil, fmt.Errorf("read safetensors %s: %w", path, err)
	}
	return w, meta, nil
}

// WriteSafetensors writes tensors as F32 to path atomically (atomicfile.Write).
func WriteSafetensors(path string, tensors Weights, metadata map[string]string) error {
	err := atomicfile.Write(path, 0o644, func(f *os.File) error {
		return EncodeSafetensors(f, tensors, metadata)
	})
	if err != nil {
		return fmt.Errorf("write safetensors %s: %w", path, err)
	}
	return nil
}

// numel is the element count of a shape (1 for a scalar).
func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}
