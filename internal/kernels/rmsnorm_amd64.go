//go:build amd64 && !purego

package kernels

// scaleMulAVX2Asm does ScaleMul's n elements 8 at a time (n a positive multiple of 8).
//
//go:noescape
func scaleMulAVX2Asm(y, x, w *float32, n int, s float32)

// scaleMulAVX512Asm does ScaleMul's n elements 16 at a time, the last step masked (n > 0).
//
//go:noescape
func scaleMulAVX512Asm(y, x, w *float32, n int, s float32)

// scaleMulSubAVX2Asm does ScaleMulSub's n elements 8 at a time (n a positive multiple of 8).
//
//go:noescape
func scaleMulSubAVX2Asm(dx, w, dy, x *float32, n int, s, c float32)

// scaleMulSubAVX512Asm does ScaleMulSub's n elements 16 at a time, the last step masked
// (n > 0).
//
//go:noescape
func scaleMulSubAVX512Asm(dx, w, dy, x *float32, n int, s, c float32)

// mulScaleAddAVX2Asm does MulScaleAdd's n elements 8 at a time (n a positive multiple of 8).
//
//go:noescape
func mulScaleAddAVX2Asm(out, dy, x *float32, n int, s float32)

// mulScaleAddAVX512Asm does MulScaleAdd's n elements 16 at a time, the last step masked
// (n > 0).
//
//go:noescape
func mulScaleAddAVX512Asm(out, dy, x *float32, n int, s float32)
