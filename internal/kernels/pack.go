package kernels

// packB copies micro-panel s of the block (columns jc+s*nr .. +nr of op(B), rows
// pc .. pc+kc) into blk.packed as kc rows of nr values, zero past the last column.
func (g *gemm) packB(blk *block, s int) {
	nr := g.ks.nr
	j0 := blk.jc + s*nr
	cols := min(nr, g.n-j0)
	dst := blk.packed[s*blk.kc*nr : (s+1)*blk.kc*nr]
	if !g.tB {
		for p := 0; p < blk.kc; p++ {
			src := g.b[(blk.pc+p)*g.ldb+j0:]
			d := dst[p*nr : (p+1)*nr]
			copy(d, src[:cols])
			clear(d[cols:])
		}
		return
	}
	// op(B)(p, j) = b[j*ldb + p]: each column of the micro-panel is a contiguous run
	// of a stored row, read in order and written with a stride of nr.
	for j := 0; j < cols; j++ {
		src := g.b[(j0+j)*g.ldb+blk.pc:][:blk.kc]
		for p, v := range src {
			dst[p*nr+j] = v
		}
	}
	if cols < nr {
		for p := 0; p < blk.kc; p++ {
			clear(dst[p*nr+cols : (p+1)*nr])
		}
	}
}

// packA copies rows i0 .. i0+mr of op(A), columns pc .. pc+kc, into ap.buf in rows
// layout (kc values per row), with zero rows up to rows, for a micro-kernel that reads
// more rows than the panel has. The copy is kept while the same panel comes again.
func (g *gemm) packA(ap *aPanel, i0, mr, rows int, blk *block) {
	if ap.buf != nil && ap.row0 == i0 && ap.pc == blk.pc && ap.rows == rows && ap.cols == blk.kc {
		return
	}
	if cap(ap.buf) < rows*blk.kc {
		ap.buf = make([]float32, rows*blk.kc)
	}
	ap.buf = ap.buf[:rows*blk.kc]
	ap.row0, ap.pc, ap.rows, ap.cols = i0, blk.pc, rows, blk.kc
	for r := 0; r < rows; r++ {
		d := ap.buf[r*blk.kc : (r+1)*blk.kc]
		if r >= mr {
			clear(d)
			continue
		}
		if !g.tA {
			copy(d, g.a[(i0+r)*g.lda+blk.pc:])
			continue
		}
		for p := range d {
			d[p] = g.a[(blk.pc+p)*g.lda+i0+r]
		}
	}
}
