package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// normCase is one RMSNorm kernel and its scalar reference, both writing v[0] from the
// inputs v[1], v[2], v[3] (those it takes) and the scalars s, c; alias lists the
// inputs the output may be.
type normCase struct {
	name   string
	alias  []int
	kernel func(v [4][]float32, s, c float32)
	scalar func(i int, v [4][]float32, s, c float32) float32
}

var normCases = []normCase{
	{"ScaleMul", []int{1},
		func(v [4][]float32, s, _ float32) { ScaleMul(v[0], v[1], v[2], s) },
		func(i int, v [4][]float32, s, _ float32) float32 { return float32(v[1][i]*s) * v[2][i] }},
	{"ScaleMulSub", []int{2, 3},
		func(v [4][]float32, s, c float32) { ScaleMulSub(v[0], v[1], v[2], v[3], s, c) },
		func(i int, v [4][]float32, s, c float32) float32 {
			return float32(float32(s*v[1][i])*v[2][i]) - float32(v[3][i]*c)
		}},
	{"MulScaleAdd", nil,
		func(v [4][]float32, s, _ float32) { MulScaleAdd(v[0], v[1], v[2], s) },
		func(i int, v [4][]float32, s, _ float32) float32 {
			return v[0][i] + float32(float32(v[1][i]*v[2][i])*s)
		}},
}

// TestRMSNormKernels runs every RMSNorm kernel this CPU has on lengths around the
// vector widths, out of place and in place (where allowed), from odd offsets, and
// requires the bits of the scalar expression and the values past n (within the
// slices' capacity) untouched.
func TestRMSNormKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	lengths := []int{127, 1000}
	for n := 0; n <= 70; n++ {
		lengths = append(lengths, n)
	}
	for _, isa := range elemISAs() {
		for _, k := range normCases {
			t.Run(isaName(isa)+"/"+k.name, func(t *testing.T) {
				defer setElemISA(setElemISA(isa))
				for _, n := range lengths {
					for _, alias := range append([]int{0}, k.alias...) {
						off := rng.IntN(8)
						var v [4][]float32
						for j := range v {
							v[j] = make([]float32, off+n+3)
							for i := range v[j] {
								v[j][i] = float32(rng.NormFloat64())
							}
							v[j] = v[j][off : off+n : off+n+3]
						}
						s, c := float32(rng.NormFloat64()), float32(rng.NormFloat64())
						in := v
						for j := range in {
							in[j] = append([]float32(nil), v[j]...)
						}
						if alias > 0 {
							v[0], in[0] = v[alias], in[alias]
						}
						want := make([]float32, n)
						for i := range want {
							want[i] = k.scalar(i, in, s, c)
						}
						guard := [2]float32{v[0][:n+3][n], v[0][:n+3][n+2]}
						k.kernel(v, s, c)
						for i := range want {
							if v[0][i] != want[i] {
								t.Fatalf("n %d alias %d: element %d = %v, scalar %v", n, alias, i, v[0][i], want[i])
							}
						}
						if v[0][:n+3][n] != guard[0] || v[0][:n+3][n+2] != guard[1] {
							t.Fatalf("n %d alias %d: wrote past the end", n, alias)
						}
					}
				}
			})
		}
	}
}

// BenchmarkRMSNormKernels runs each RMSNorm kernel over the rows of a fine-tuning
// batch (16x320 rows of 576, larger than L2) and over one row of 576 (in L1):
//
//	go test -run '^$' -bench RMSNormKernels ./internal/kernels/
func BenchmarkRMSNormKernels(b *testing.B) {
	const d = 576
	for _, rows := range []int{16 * 320, 1} {
		var v [4][]float32
		for j := range v {
			v[j] = make([]float32, rows*d)
			for i := range v[j] {
				v[j][i] = float32(i%13) - 6
			}
		}
		for _, k := range normCases {
			for _, isa := range elemISAs() {
				b.Run(fmt.Sprintf("%s/rows%d/%s", k.name, rows, isaName(isa)), func(b *testing.B) {
					defer setElemISA(setElemISA(isa))
					for i := 0; i < b.N; i++ {
						for r := 0; r < rows*d; r += d {
							// The weights (v[1] or v[2]) are one row, as in the model;
							// MulScaleAdd accumulates into one row too.
							row := [4][]float32{v[0][r : r+d], v[1][r : r+d], v[2][:d], v[3][r : r+d]}
							if k.name == "MulScaleAdd" {
								row = [4][]float32{v[0][:d], v[1][r : r+d], v[2][r : r+d], nil}
							} else if k.name == "ScaleMulSub" {
								row[1], row[2] = v[1][:d], v[2][r:r+d]
							}
							k.kernel(row, 0.5, 0.25)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows*d), "ns/elem")
				})
			}
		}
	}
}
