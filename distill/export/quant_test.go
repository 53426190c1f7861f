package export

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cyclecore/mlmforge/distill/model"
)

// q8Block builds one Q8_0 block from a float16 scale and 32 quants.
func q8Block(d uint16, qs [32]int8) []byte {
	b := binary.LittleEndian.AppendUint16(nil, d)
	for _, q := range qs {
		b = append(b, byte(q))
	}
	return b
}

func TestDequantizeQ8_0HandMadeBlocks(t *testing.T) {
	var ramp, signs [32]int8
	for i := range ramp {
		ramp[i] = int8(i*8 - 128) // -128, -120, ..., 120
		signs[i] = int8(1-2*(i%2)) * 127
	}
	// 0x3800 = 0.5, 0xB400 = -0.25, 0x0001 = 2^-24 (subnormal), 0 = zero scale.
	data := slices.Concat(q8Block(0x3800, ramp), q8Block(0xB400, signs), q8Block(0x0001, ramp), q8Block(0, signs))
	got, err := DequantizeQ8_0(data, 128)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 32 {
		checks := []struct {
			at   int
			want float32
		}{
			{i, float32(i*8-128) * 0.5},
			{32 + i, float32(signs[i]) * -0.25},
			{64 + i, float32(i*8-128) * float32(math.Ldexp(1, -24))},
			{96 + i, 0},
		}
		for _, c := range checks {
			if got[c.at] != c.want {
				t.Fatalf("value %d = %g, want %g", c.at, got[c.at], c.want)
			}
		}
	}
	if _, err := DequantizeQ8_0(data[:100], 128); err == nil {
		t.Error("truncated data: no error")
	}
	if _, err := DequantizeQ8_0(data, 100); err == nil {
		t.Error("100 values (not whole blocks): no error")
	}
}

func TestQuantizeQ8_0(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 32*64)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(i/32%6-3)))
	}
	copy(x[:32], make([]float32, 32)) // an all-zero block: scale 0, no NaN
	q, err := QuantizeQ8_0(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != len(x)/32*34 {
		t.Fatalf("%d bytes, want %d", len(q), len(x)/32*34)
	}
	back, err := DequantizeQ8_0(q, len(x))
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b < len(x); b += 32 {
		var amax float64
		for _, v := range x[b : b+32] {
			amax = max(amax, math.Abs(float64(v)))
		}
		for i := b; i < b+32; i++ {
			if d := math.Abs(float64(back[i] - x[i])); d > q8Bound(amax) {
				t.Fatalf("value %d: %g -> %g, error %g exceeds half a step of amax %g", i, x[i], back[i], d, amax)
			}
		}
	}
	// The largest magnitude of every non-zero block maps to +-127.
	for b := 1; b < len(x)/32; b++ {
		qs := q[b*34+2 : (b+1)*34]
		if !slices.ContainsFunc(qs, func(v byte) bool { return int8(v) == 127 || int8(v) == -127 }) {
			t.Fatalf("block %d: no quant of magnitude 127 in %v", b, qs)
		}
	}
}

// q8Bound bounds the Q8_0 error of a value in a block whose largest magnitude is amax:
// half a quantization step, plus 127 times the float16 rounding error of the scale
// amax/127 (relative 2^-11, or half the subnormal spacing 2^-25 for tiny scales).
func q8Bound(amax float64) float64 {
	return amax/254 + amax*math.Pow(2, -11) + 127*math.Pow(2, -25)
}

func TestF32ToF16(t *testing.T) {
	// Every half converts to float32 and back unchanged (NaNs stay NaN).
	for h := range 1 << 16 {
		f := model.F16ToF32(uint16(h))
		got := F32ToF16(f)
		if math.IsNaN(float64(f)) {
			if !math.IsNaN(float64(model.F16ToF32(got))) {
				t.Fatalf("NaN %#04x -> %#04x", h, got)
			}
			continue
		}
		if got != uint16(h) {
			t.Fatalf("%#04x (%g) -> %#04x", h, f, got)
		}
	}
	for _, tc := range []struct {
		in   float32
		want uint16
	}{
		{1 + 1.0/2048, 0x3c00},             // tie between 1 and 1+2^-10: to even (1)
		{1 + 3.0/2048, 0x3c02},             // tie: to even (1+2^-9)
		{1 + 1.0/2048 + 1.0/65536, 0x3c01}, // just above the tie: up
		{65504, 0x7bff},                    // largest half
		{65520, 0x7c00},                    // rounds to infinity
		{1e6, 0x7c00},
		{-1e6, 0xfc00},
		{float32(math.Ldexp(1, -24)), 0x0001},                  // smallest subnormal
		{float32(math.Ldexp(1, -25)), 0x0000},                  // tie with 0: to even (0)
		{float32(math.Ldexp(1.5, -25)), 0x0001},                // above the tie
		{float32(math.Ldexp(3, -25)), 0x0002},                  // tie between 1 and 2 subnormal steps: to even
		{float32(math.Ldexp(1, -14)) * (1 - 1.0/4096), 0x0400}, // rounds up into the smallest normal
		{1e-30, 0},
		{float32(math.Copysign(0, -1)), 0x8000},
	} {
		if got := F32ToF16(tc.in); got != tc.want {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", tc.in, got, tc.want)
		}
	}
}

func TestPermuteRows(t *testing.T) {
	// 2 heads of hd 4, 3 columns: row r holds r*10 + column.
	heads, hd, cols := 2, 4, 3
	data := make([]float32, heads*hd*cols)
	for r := range heads * hd {
		for c := range cols {
			data[r*cols+c] = float32(r*10 + c)
		}
	}
	got := permuteRows(data, heads, cols, false)
	// convert_hf_to_gguf.py: reshape(heads, 2, hd/2, cols).swapaxes(1, 2): new row order
	// per head is (0, 2, 1, 3) of the Hugging Face rows.
	wantRows := []int{0, 2, 1, 3, 4, 6, 5, 7}
	for r, src := range wantRows {
		for c := range cols {
			if got[r*cols+c] != float32(src*10+c) {
				t.Fatalf("row %d = %v, want Hugging Face row %d", r, got[r*cols:(r+1)*cols], src)
			}
		}
	}
	if back := permuteRows(got, heads, cols, true); !slices.Equal(back, data) {
		t.Fatalf("inverse: %v, want %v", back, data)
	}
}
