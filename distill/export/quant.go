package export

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cyclecore/mlmforge/distill/model"
)

// Q8_0 block layout (ggml's block_q8_0): a float16 scale d, then 32 int8 quants; the
// values are q*d.
const (
	q8BlockSize  = 32
	q8BlockBytes = 2 + q8BlockSize
)

// F32ToF16 rounds a float32 to the nearest IEEE 754 half-precision value (ties to
// even, as ggml's and numpy's conversions do): overflow gives infinity, tiny values
// become subnormals or zero, NaN stays NaN.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 { // subnormal half: value = m * 2^-24
		shift := uint32(14 - e)
		if exp == 0 || shift > 24 {
			return sign
		}
		full := mant | 0x800000
		m := full >> shift
		rem, half := full&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > half || rem == half && m&1 == 1 {
			m++ // may carry into the smallest normal, which is the right encoding
		}
		return sign | uint16(m)
	}
	h := sign | uint16(e)<<10 | uint16(mant>>13)
	rem := mant & 0x1fff
	if rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
		h++ // a carry into the exponent (or to infinity) is correct rounding
	}
	return h
}

// DequantizeQ8_0 expands Q8_0 blocks into n float32 values (n a multiple of 32).
func DequantizeQ8_0(data []byte, n int) ([]float32, error) {
	if n%q8BlockSize != 0 {
		return nil, fmt.Errorf("q8_0: %d values is not a multiple of the %d-value block", n, q8BlockSize)
	}
	if want := n / q8BlockSize * q8BlockBytes; len(data) != want {
		return nil, fmt.Errorf("q8_0: %d bytes for %d values, want %d", len(data), n, want)
	}
	out := make([]float32, n)
	for b := 0; b < n/q8BlockSize; b++ {
		blk := data[b*q8BlockBytes : (b+1)*q8BlockBytes]
		d := model.F16ToF32(binary.LittleEndian.Uint16(blk))
		for i, q := range blk[2:] {
			out[b*q8BlockSize+i] = float32(int8(q)) * d
		}
	}
	return out, nil
}

// QuantizeQ8_0 is ggml's quantize_row_q8_0_ref: per block of 32 values, d = max|x|/127
// (stored as float16) and q = round(x/d).
func QuantizeQ8_0(x []float32) ([]byte, error) {
	if len(x)%q8BlockSize != 0 {
		return nil, fmt.Errorf("q8_0: %d values is not a multiple of the %d-value block", len(x), q8BlockSize)
	}
	out := make([]byte, 0, len(x)/q8BlockSize*q8BlockBytes)
	for b := 0; b < len(x); b += q8BlockSize {
		blk := x[b : b+q8BlockSize]
		var amax float32
		for _, v := range blk {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := amax / 127
		id := float32(0)
		if d != 0 {
			id = 1 / d
		}
		out = binary.LittleEndian.AppendUint16(out, F32ToF16(d))
		for _, v := range blk {
			out = append(out, byte(int8(math.Round(float64(v*id)))))
		}
	}
	return out, nil
}

// decodeF16 widens little-endian float16 values.
func decodeF16(data []byte) []float32 {
	out := make([]float32, len(data)/2)
	for i := range out {
		out[i] = model.F16ToF32(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return out
}

// decodeBF16 widens little-endian bfloat16 values (the top half of a float32).
func decodeBF16(data []byte) []float32 {
	out := make([]float32, len(data)/2)
	for i := range out {
		out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(data[2*i:])) << 16)
	}
	return out
}

// decodeF32 reads little-endian float32 values.
func decodeF32(data []byte) []float32 {
	out := make([]float32, len(data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return out
}

// encodeF32 and encodeF16 write values little-endian.
func encodeF32(x []float32) []byte {
	out := make([]byte, 0, 4*len(x))
	for _, v := range x {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

func encodeF16(x []float32) []byte {
	out := make([]byte, 0, 2*len(x))
	for _, v := range x {
		out = binary.LittleEndian.AppendUint16(out, F32ToF16(v))
	}
	return out
}
