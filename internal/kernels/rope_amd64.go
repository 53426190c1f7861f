//go:build amd64 && !purego

package kernels

// ropeAVX2Asm does Rope's n pairs 8 at a time (n a positive multiple of 8).
//
//go:noescape
func ropeAVX2Asm(y1, y2, x1, x2, cos, sin *float32, n int)

// ropeAVX512Asm does Rope's n pairs 16 at a time, the last step masked (n > 0).
//
//go:noescape
func ropeAVX512Asm(y1, y2, x1, x2, cos, sin *float32, n int)
