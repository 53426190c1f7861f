package kernels

import "unsafe"

// goRows and goCols are the tile of the pure-Go micro-kernel.
const (
	goRows = 4
	goCols = 16
)

// kernelsGo is the portable micro-kernel set: the purego build and other
// architectures run the same packing and blocking code through it.
var kernelsGo = kernelSet{name: "go", nr: goCols, byRows: []microKernel{{mr: goRows, fn: sgemmGo}}}

// sgemmGo is the micro-kernel contract of gen_sgemm.go in Go: a goRows x goCols tile
// accumulated over k, then C = alpha*acc (+ C when acc) on the mr x nr corner.
func sgemmGo(k int, a *float32, ars, aps int, b *float32, bs int, c *float32, ldc, mr, nr int, alpha float32, acc bool) {
	var t [goRows][goCols]float32
	if k > 0 {
		as := unsafe.Slice(a, (goRows-1)*ars+(k-1)*aps+1)
		bv := unsafe.Slice(b, (k-1)*bs+goCols)
		for p := 0; p < k; p++ {
			brow := (*[goCols]float32)(bv[p*bs:])
			for r := range t {
				av := as[r*ars+p*aps]
				for j, x := range brow {
					t[r][j] += av * x
				}
			}
		}
	}
	cv := unsafe.Slice(c, (mr-1)*ldc+nr)
	for r := 0; r < mr; r++ {
		row := cv[r*ldc : r*ldc+nr]
		for j := range row {
			v := alpha * t[r][j]
			if acc {
				v += row[j]
			}
			row[j] = v
		}
	}
}
