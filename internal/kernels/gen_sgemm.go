//go:build ignore

// gen_sgemm writes sgemm_amd64.s and sgemm_decl_amd64.go: the SGEMM micro-kernels,
// fully unrolled over their register tile, one function per (instruction set, rows).
// Run it with `go generate ./internal/kernels/`. A generator instead of hand-written
// assembly because every kernel is the same three loops (multiply-accumulate over k,
// overwrite or accumulate C, full or masked columns) over a different register tile,
// and writing those by hand is where row 7's address or register 23 goes wrong.
//
// Every kernel computes, for a block of mr <= MR rows and nr <= NR columns,
//
//	C[i][j] = alpha * sum_p A(i, p) B(p, j)        (acc false)
//	C[i][j] = alpha * sum_p A(i, p) B(p, j) + C[i][j] (acc true)
//
// where A(i, p) is a[i*ars + p*aps] (rows layout: ars = lda, aps = 1; columns layout,
// a transposed A: ars = 1, aps = lda) and B(p, j) is b[p*bs + j] for j < NR. All MR rows
// of A and NR columns of B are read, so the caller pads partial panels; only C is
// masked to mr x nr.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
)

// isa describes one instruction set: vector register prefix and width, how many
// vectors make up a row of the tile, and the rows of each kernel it gets.
type isa struct {
	name   string // AVX512, AVX2
	reg    string // Z or Y
	lanes  int    // float32 per vector
	vecs   int    // vectors per tile row (NR = vecs*lanes)
	rows   []int  // MR of each kernel
	bReg   int    // first register holding B vectors
	bcReg  int    // first of two broadcast registers
	tmpReg int    // scratch for the C update
}

var isas = []isa{
	{name: "AVX512", reg: "Z", lanes: 16, vecs: 2, rows: []int{4, 8, 12}, bReg: 24, bcReg: 26, tmpReg: 28},
	{name: "AVX2", reg: "Y", lanes: 8, vecs: 2, rows: []int{2, 4, 6}, bReg: 12, bcReg: 14, tmpReg: 12},
}

type gen struct{ bytes.Buffer }

func (g *gen) f(format string, args ...any) { fmt.Fprintf(&g.Buffer, format+"\n", args...) }

// rowAddr is the address of A(row, p) given SI = A(0, p), R9 = A(8, p), DX = ars bytes,
// R8 = 3*ars, R10 = 5*ars, R11 = 7*ars.
func rowAddr(r int) string {
	base := "SI"
	if r >= 8 {
		base, r = "R9", r-8
	}
	switch r {
	case 0:
		return "(" + base + ")"
	case 1:
		return "(" + base + ")(DX*1)"
	case 2:
		return "(" + base + ")(DX*2)"
	case 3:
		return "(" + base + ")(R8*1)"
	case 4:
		return "(" + base + ")(DX*4)"
	case 5:
		return "(" + base + ")(R10*1)"
	case 6:
		return "(" + base + ")(R8*2)"
	default:
		return "(" + base + ")(R11*1)"
	}
}

func (s isa) acc(r, v int) string { return fmt.Sprintf("%s%d", s.reg, r*s.vecs+v) }

func kernelName(s isa, mr int) string { return fmt.Sprintf("sgemm%sx%d", s.name, mr) }

func (g *gen) kernel(s isa, mr int) {
	name := kernelName(s, mr)
	g.f("// func %s(k int, a *float32, ars, aps int, b *float32, bs int, c *float32, ldc, mr, nr int, alpha float32, acc bool)", name)
	g.f("TEXT ·%s(SB), NOSPLIT, $0-85", name)
	g.f("\tMOVQ k+0(FP), CX")
	g.f("\tMOVQ a+8(FP), SI")
	g.f("\tMOVQ ars+16(FP), DX")
	g.f("\tSHLQ $2, DX")
	g.f("\tMOVQ aps+24(FP), R12")
	g.f("\tSHLQ $2, R12")
	g.f("\tMOVQ b+32(FP), BX")
	g.f("\tMOVQ bs+40(FP), R13")
	g.f("\tSHLQ $2, R13")
	g.f("\tLEAQ (DX)(DX*2), R8")
	g.f("\tLEAQ (DX)(DX*4), R10")
	g.f("\tLEAQ (R8)(DX*4), R11")
	g.f("\tLEAQ (SI)(DX*8), R9")
	for r := 0; r < mr; r++ {
		for v := 0; v < s.vecs; v++ {
			a := s.acc(r, v)
			if s.reg == "Z" {
				g.f("\tVPXORD %s, %s, %s", a, a, a)
			} else {
				g.f("\tVXORPS %s, %s, %s", a, a, a)
			}
		}
	}
	g.f("\tTESTQ CX, CX")
	g.f("\tJZ %s_store", name)
	g.f("%s_loop:", name)
	for v := 0; v < s.vecs; v++ {
		g.f("\tVMOVUPS %d(BX), %s%d", v*s.lanes*4, s.reg, s.bReg+v)
	}
	for r := 0; r < mr; r++ {
		bc := fmt.Sprintf("%s%d", s.reg, s.bcReg+r%2)
		g.f("\tVBROADCASTSS %s, %s", rowAddr(r), bc)
		for v := 0; v < s.vecs; v++ {
			g.f("\tVFMADD231PS %s, %s%d, %s", bc, s.reg, s.bReg+v, s.acc(r, v))
		}
	}
	g.f("\tADDQ R13, BX")
	g.f("\tADDQ R12, SI")
	g.f("\tADDQ R12, R9")
	g.f("\tDECQ CX")
	g.f("\tJNZ %s_loop", name)
	g.f("%s_store:", name)
	g.store(s, mr, name)
	g.f("")
}

// store writes the accumulators to C: alpha scaling, then overwrite or add, for every
// row up to mr and the columns up to nr.
func (g *gen) store(s isa, mr int, name string) {
	alpha := fmt.Sprintf("%s%d", s.reg, s.bcReg)
	g.f("\tMOVQ c+48(FP), DI")
	g.f("\tMOVQ ldc+56(FP), R8")
	g.f("\tSHLQ $2, R8")
	g.f("\tMOVQ mr+64(FP), CX")
	g.f("\tMOVQ nr+72(FP), AX")
	g.f("\tVBROADCASTSS alpha+80(FP), %s", alpha)
	for r := 0; r < mr; r++ {
		for v := 0; v < s.vecs; v++ {
			g.f("\tVMULPS %s, %s, %s", alpha, s.acc(r, v), s.acc(r, v))
		}
	}
	g.f("\tMOVBQZX acc+84(FP), R9")
	if s.reg == "Z" {
		// Masks from nr: K1 covers columns 0-15, K2 columns 16-31; masked-off lanes
		// are neither read nor written (no fault past the end of C).
		g.f("\tMOVQ $1, R10")
		g.f("\tMOVQ AX, CX")
		g.f("\tSHLQ CX, R10")
		g.f("\tDECQ R10")
		g.f("\tKMOVW R10, K1")
		g.f("\tSHRQ $16, R10")
		g.f("\tKMOVW R10, K2")
		g.f("\tMOVQ mr+64(FP), CX")
		for _, accum := range []bool{false, true} {
			label := name + "_set"
			if accum {
				label = name + "_add"
				g.f("%s:", label)
			} else {
				g.f("\tTESTQ R9, R9")
				g.f("\tJNZ %s_add", name)
			}
			for r := 0; r < mr; r++ {
				for v := 0; v < s.vecs; v++ {
					k := fmt.Sprintf("K%d", v+1)
					out := s.acc(r, v)
					if accum {
						tmp := fmt.Sprintf("Z%d", s.tmpReg+v)
						g.f("\tVMOVUPS.Z %d(DI), %s, %s", v*64, k, tmp)
						g.f("\tVADDPS %s, %s, %s", tmp, out, out)
					}
					g.f("\tVMOVUPS %s, %s, %d(DI)", out, k, v*64)
				}
				if r < mr-1 {
					g.f("\tDECQ CX")
					g.f("\tJZ %s_done", name)
					g.f("\tADDQ R8, DI")
				}
			}
			g.f("\tJMP %s_done", name)
		}
		g.f("%s_done:", name)
		g.f("\tVZEROUPPER")
		g.f("\tRET")
		return
	}
	// AVX2: full 16-column tiles use plain moves; an edge tile (nr < 16) masks with
	// VMASKMOVPS, whose masks come from maskTab: 8 lanes read at maskTab + 4*(16-t)
	// have the first t lanes set.
	g.f("\tCMPQ AX, $16")
	g.f("\tJLT %s_edge", name)
	for _, accum := range []bool{false, true} {
		g.storeRowsAVX2(s, mr, name, accum, false)
	}
	g.f("%s_edge:", name)
	g.f("\tLEAQ maskTab<>(SB), R10")
	g.f("\tMOVQ AX, R11")
	g.f("\tCMPQ R11, $8")
	g.f("\tJLE %s_m1", name)
	g.f("\tMOVQ $8, R11")
	g.f("%s_m1:", name)
	g.f("\tNEGQ R11")
	g.f("\tVMOVDQU 64(R10)(R11*4), Y14")
	g.f("\tSUBQ $8, AX")
	g.f("\tJGE %s_m2", name)
	g.f("\tXORQ AX, AX")
	g.f("%s_m2:", name)
	g.f("\tNEGQ AX")
	g.f("\tVMOVDQU 64(R10)(AX*4), Y15")
	for _, accum := range []bool{false, true} {
		g.storeRowsAVX2(s, mr, name, accum, true)
	}
	g.f("%s_done:", name)
	g.f("\tVZEROUPPER")
	g.f("\tRET")
}

func (g *gen) storeRowsAVX2(s isa, mr int, name string, accum, edge bool) {
	sfx := "full"
	if edge {
		sfx = "edge"
	}
	label := fmt.Sprintf("%s_%s_set", name, sfx)
	if accum {
		label = fmt.Sprintf("%s_%s_add", name, sfx)
	} else {
		g.f("\tTESTQ R9, R9")
		g.f("\tJNZ %s_%s_add", name, sfx)
	}
	g.f("%s:", label)
	for r := 0; r < mr; r++ {
		for v := 0; v < s.vecs; v++ {
			out := s.acc(r, v)
			mask := fmt.Sprintf("Y%d", 14+v)
			tmp := fmt.Sprintf("Y%d", s.tmpReg+v)
			if accum {
				if edge {
					g.f("\tVMASKMOVPS %d(DI), %s, %s", v*32, mask, tmp)
				} else {
					g.f("\tVMOVUPS %d(DI), %s", v*32, tmp)
				}
				g.f("\tVADDPS %s, %s, %s", tmp, out, out)
			}
			if edge {
				g.f("\tVMASKMOVPS %s, %s, %d(DI)", out, mask, v*32)
			} else {
				g.f("\tVMOVUPS %s, %d(DI)", out, v*32)
			}
		}
		if r < mr-1 {
			g.f("\tDECQ CX")
			g.f("\tJZ %s_done", name)
			g.f("\tADDQ R8, DI")
		}
	}
	g.f("\tJMP %s_done", name)
}

func main() {
	var s gen
	s.f("// Code generated by gen_sgemm.go; DO NOT EDIT.")
	s.f("")
	s.f("//go:build amd64 && !purego")
	s.f("")
	s.f("#include \"textflag.h\"")
	s.f("")
	s.f("// maskTab: 16 lanes set, then 16 clear (the AVX2 kernels' column masks).")
	for i := 0; i < 32; i++ {
		v := "0xffffffff"
		if i >= 16 {
			v = "0x00000000"
		}
		s.f("DATA maskTab<>+%d(SB)/4, $%s", 4*i, v)
	}
	s.f("GLOBL maskTab<>(SB), RODATA|NOPTR, $128")
	s.f("")
	var d gen
	d.f("// Code generated by gen_sgemm.go; DO NOT EDIT.")
	d.f("")
	d.f("//go:build amd64 && !purego")
	d.f("")
	d.f("package kernels")
	d.f("")
	for _, is := range isas {
		var names []string
		for _, mr := range is.rows {
			s.kernel(is, mr)
			n := kernelName(is, mr)
			names = append(names, fmt.Sprintf("{mr: %d, fn: %s}", mr, n))
			d.f("// %s is the %s SGEMM micro-kernel for %d rows and %d columns.", n, is.name, mr, is.vecs*is.lanes)
			d.f("//")
			d.f("//go:noescape")
			d.f("func %s(k int, a *float32, ars, aps int, b *float32, bs int, c *float32, ldc, mr, nr int, alpha float32, acc bool)", n)
			d.f("")
		}
		d.f("// kernels%s are the %s micro-kernels, fewest rows first.", is.name, is.name)
		d.f("var kernels%s = kernelSet{name: %q, nr: %d, byRows: []microKernel{%s}}", is.name, strings.ToLower(is.name), is.vecs*is.lanes, strings.Join(names, ", "))
		d.f("")
	}
	if err := os.WriteFile("sgemm_amd64.s", s.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	src, err := format.Source(d.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("sgemm_decl_amd64.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}
