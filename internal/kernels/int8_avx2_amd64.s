// Integer kernels of INT8 inference for CPUs with AVX2 but no AVX-512 VNNI (see int8.go
// and the VNNI twins in int8_amd64.s). Activations arrive as u8 codes q with zero point
// 128, weights as s8 in [-127, 127]. VPMADDUBSW(u8, s8) sums pairs of products in int16
// with saturation, which q*w would hit (2*255*127 > 32767), so the kernels use the sign
// trick of llama.cpp/ggml: x = q XOR 0x80 = q-128 as s8, then
//
//	VPMADDUBSW(|x|, w*sign(x))  pairs of x*w, each pair within 2*128*127 < 32767
//	VPMADDWD(that, ones)         widened to int32, four products per lane
//
// which is sum_p (q-128)*w, the exact int32 that the other kernels compute as
// sum q*w - corr. Rows are read 32 bytes at a time; the last k%32 bytes by a load of the
// row's last 32 bytes whose first 32 - k%32 (done already) are masked off (k >= 32: no
// read past a row, no padding needed). Both kernels prefetch the weight rows two blocks
// ahead: a decode step streams them from memory (the 135M decoder on integer activations
// ran 1.35x faster with the prefetch). Hand-written.

//go:build amd64 && !purego

#include "textflag.h"

DATA i8x80<>+0(SB)/8, $0x8080808080808080
DATA i8x80<>+8(SB)/8, $0x8080808080808080
DATA i8x80<>+16(SB)/8, $0x8080808080808080
DATA i8x80<>+24(SB)/8, $0x8080808080808080
GLOBL i8x80<>(SB), RODATA|NOPTR, $32

// i8tail<>+r, 32 bytes, keeps the last r bytes of a vector.
DATA i8tail<>+0(SB)/8, $0
DATA i8tail<>+8(SB)/8, $0
DATA i8tail<>+16(SB)/8, $0
DATA i8tail<>+24(SB)/8, $0
DATA i8tail<>+32(SB)/8, $-1
DATA i8tail<>+40(SB)/8, $-1
DATA i8tail<>+48(SB)/8, $-1
DATA i8tail<>+56(SB)/8, $-1
GLOBL i8tail<>(SB), RODATA|NOPTR, $64

// i8perm<> puts the dwords of VPACKSSDW+VPACKSSWB's per-lane output back in order.
DATA i8perm<>+0(SB)/4, $0
DATA i8perm<>+4(SB)/4, $4
DATA i8perm<>+8(SB)/4, $1
DATA i8perm<>+12(SB)/4, $5
DATA i8perm<>+16(SB)/4, $2
DATA i8perm<>+20(SB)/4, $6
DATA i8perm<>+24(SB)/4, $3
DATA i8perm<>+28(SB)/4, $7
GLOBL i8perm<>(SB), RODATA|NOPTR, $32

// PAIR adds x*w of 32 bytes, four products per int32 lane, into acc: sgn holds x (s8),
// abs |x|, w the weights; t is clobbered; Y15 holds int16 ones.
#define PAIR(sgn, abs, w, t, acc) \
	VPSIGNB sgn, w, t; \
	VPMADDUBSW t, abs, t; \
	VPMADDWD Y15, t, t; \
	VPADDD t, acc, acc

// HADD8 sums the 8 lanes of each of Y0..Y7 into Y0, lane e being the sum of Ye.
// Clobbers Y1, Y2, Y4, Y6.
#define HADD8 \
	VPHADDD Y1, Y0, Y0; \
	VPHADDD Y3, Y2, Y2; \
	VPHADDD Y5, Y4, Y4; \
	VPHADDD Y7, Y6, Y6; \
	VPHADDD Y2, Y0, Y0; \
	VPHADDD Y6, Y4, Y4; \
	VPERM2I128 $0x20, Y4, Y0, Y1; \
	VPERM2I128 $0x31, Y4, Y0, Y2; \
	VPADDD Y2, Y1, Y0

#define ZERO8 \
	VPXOR Y0, Y0, Y0; \
	VPXOR Y1, Y1, Y1; \
	VPXOR Y2, Y2, Y2; \
	VPXOR Y3, Y3, Y3; \
	VPXOR Y4, Y4, Y4; \
	VPXOR Y5, Y5, Y5; \
	VPXOR Y6, Y6, Y6; \
	VPXOR Y7, Y7, Y7

// X2DOT: the two activation rows (Y8, |Y8| in Y9; Y10, |Y10| in Y11) against the 32
// bytes at AX of the four weight rows DI, R8, R9, R12. Y0..Y3 are row 0's sums, Y4..Y7
// row 1's.
#define X2DOT \
	VMOVDQU (DI)(AX*1), Y12; \
	PAIR(Y8, Y9, Y12, Y13, Y0); \
	PAIR(Y10, Y11, Y12, Y13, Y4); \
	VMOVDQU (R8)(AX*1), Y12; \
	PAIR(Y8, Y9, Y12, Y13, Y1); \
	PAIR(Y10, Y11, Y12, Y13, Y5); \
	VMOVDQU (R9)(AX*1), Y12; \
	PAIR(Y8, Y9, Y12, Y13, Y2); \
	PAIR(Y10, Y11, Y12, Y13, Y6); \
	VMOVDQU (R12)(AX*1), Y12; \
	PAIR(Y8, Y9, Y12, Y13, Y3); \
	PAIR(Y10, Y11, Y12, Y13, Y7)

// func i8x2AVX2(x0, x1 *uint8, w *int8, k, nb int, ws *float32, xs0, xs1 float32, y *float32, ldy, flags int)
//
// Rows x0 and x1 of activations (k bytes each, scales xs0 and xs1) against nb blocks of
// 4 rows of w (stride k); k >= 32. (No corr: the sums are of (q-128)*w already.) With
// flags&2 == 0 they are two rows of y: y[i][4b+j] for i < 2, b < nb, j < 4, y's rows ldy
// floats apart. With flags&2 they are the two activation passes of one row:
// y[4b+j] = (y[4b+j] + s0[4b+j]) + s1[4b+j], as two calls of one row would round it.
// flags&1: add to y (acc).
TEXT ·i8x2AVX2(SB), NOSPLIT, $0-80
	MOVQ k+24(FP), R10
	MOVQ R10, R11
	ANDQ $31, R11
	LEAQ i8tail<>(SB), R14
	ADDQ R11, R14
	MOVQ R10, R13
	ANDQ $-32, R13
	MOVQ x0+0(FP), SI
	MOVQ x1+8(FP), BX
	MOVQ w+16(FP), DI
	LEAQ (DI)(R10*1), R8
	LEAQ (R8)(R10*1), R9
	LEAQ (R9)(R10*1), R12
	VPCMPEQW Y15, Y15, Y15
	VPSRLW $15, Y15, Y15
	VMOVDQU i8x80<>(SB), Y14
	MOVQ nb+32(FP), DX
	TESTQ DX, DX
	JZ x2_done
x2_block:
	ZERO8
	XORQ AX, AX
	LEAQ (DI)(R10*8), CX
x2_loop:
	PREFETCHT0 (CX)(AX*4)
	PREFETCHT0 64(CX)(AX*4)
	VPXOR (SI)(AX*1), Y14, Y8
	VPXOR (BX)(AX*1), Y14, Y10
	VPABSB Y8, Y9
	VPABSB Y10, Y11
	X2DOT
	ADDQ $32, AX
	CMPQ AX, R13
	JLT x2_loop
	TESTQ R11, R11
	JZ x2_reduce
	LEAQ -32(R10), AX
	VPXOR (SI)(AX*1), Y14, Y8
	VPXOR (BX)(AX*1), Y14, Y10
	VPAND (R14), Y8, Y8
	VPAND (R14), Y10, Y10
	VPABSB Y8, Y9
	VPABSB Y10, Y11
	X2DOT
x2_reduce:
	HADD8
	VCVTDQ2PS Y0, Y0
	MOVQ ws+40(FP), AX
	VBROADCASTF128 (AX), Y1
	VMULPS Y1, Y0, Y0
	VBROADCASTSS xs0+48(FP), X1
	VBROADCASTSS xs1+52(FP), X2
	VINSERTF128 $1, X2, Y1, Y1
	VMULPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	MOVQ y+56(FP), AX
	MOVQ ldy+64(FP), CX
	TESTQ $1, flags+72(FP)
	JZ x2_noacc
	VADDPS (AX), X0, X0
	TESTQ $2, flags+72(FP)
	JNZ x2_fuse
	VADDPS (AX)(CX*4), X1, X1
	JMP x2_store
x2_noacc:
	TESTQ $2, flags+72(FP)
	JZ x2_store
x2_fuse:
	VADDPS X1, X0, X0
	VMOVUPS X0, (AX)
	JMP x2_next
x2_store:
	VMOVUPS X0, (AX)
	VMOVUPS X1, (AX)(CX*4)
x2_next:
	ADDQ $16, ws+40(FP)
	ADDQ $16, y+56(FP)
	MOVQ R10, AX
	SHLQ $2, AX
	ADDQ AX, DI
	ADDQ AX, R8
	ADDQ AX, R9
	ADDQ AX, R12
	DECQ DX
	JNZ x2_block
x2_done:
	VZEROUPPER
	RET

// X1DOT: the activation row (Y8, |Y8| in Y9) against the 32 bytes at DI, DI+k, DI+2k,
// DI+3k, BX, BX+k, BX+2k, BX+3k (R8 = k, R9 = 3k), summed into Y0..Y7.
#define X1DOT \
	VMOVDQU (DI), Y12; \
	PAIR(Y8, Y9, Y12, Y13, Y0); \
	VMOVDQU (DI)(R8*1), Y12; \
	PAIR(Y8, Y9, Y12, Y13, Y1); \
	VMOVDQU (DI)(R8*2), Y12; \
	PAIR(Y8, Y9, Y12, Y13, Y2); \
	VMOVDQU (DI)(R9*1), Y12; \
	PAIR(Y8, Y9, Y12, Y13, Y3); \
	VMOVDQU (BX), Y12; \
	PAIR(Y8, Y9, Y12, Y13, Y4); \
	VMOVDQU (BX)(R8*1), Y12; \
	PAIR(Y8, Y9, Y12, Y13, Y5); \
	VMOVDQU (BX)(R8*2), Y12; \
	PAIR(Y8, Y9, Y12, Y13, Y6); \
	VMOVDQU (BX)(R9*1), Y12; \
	PAIR(Y8, Y9, Y12, Y13, Y7)

// func i8x1AVX2(x *uint8, w *int8, k, nb int, ws *float32, xs float32, y *float32, acc bool)
//
// One row of x against nb blocks of 8 rows of w (stride k): y[8b+j] for b < nb, j < 8;
// k >= 32.
TEXT ·i8x1AVX2(SB), NOSPLIT, $0-57
	MOVQ k+16(FP), R8
	LEAQ (R8)(R8*2), R9
	MOVQ R8, R11
	ANDQ $31, R11
	LEAQ i8tail<>(SB), R14
	ADDQ R11, R14
	MOVQ $32, R12
	SUBQ R11, R12
	MOVQ R8, R13
	ANDQ $-32, R13
	VPCMPEQW Y15, Y15, Y15
	VPSRLW $15, Y15, Y15
	VMOVDQU i8x80<>(SB), Y14
	MOVQ nb+24(FP), DX
	TESTQ DX, DX
	JZ x1_done
x1_block:
	ZERO8
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	LEAQ (DI)(R8*4), BX
	MOVQ R8, R10
	SHLQ $4, R10
	ADDQ DI, R10
	MOVQ R13, CX
x1_loop:
	PREFETCHT0 (R10)
	PREFETCHT0 64(R10)
	PREFETCHT0 128(R10)
	PREFETCHT0 192(R10)
	ADDQ $256, R10
	VPXOR (SI), Y14, Y8
	VPABSB Y8, Y9
	X1DOT
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, BX
	SUBQ $32, CX
	JNZ x1_loop
	TESTQ R11, R11
	JZ x1_reduce
	SUBQ R12, SI
	SUBQ R12, DI
	SUBQ R12, BX
	VPXOR (SI), Y14, Y8
	VPAND (R14), Y8, Y8
	VPABSB Y8, Y9
	X1DOT
x1_reduce:
	HADD8
	VCVTDQ2PS Y0, Y0
	MOVQ ws+32(FP), AX
	VMULPS (AX), Y0, Y0
	VBROADCASTSS xs+40(FP), Y1
	VMULPS Y1, Y0, Y0
	MOVQ y+48(FP), AX
	CMPB acc+56(FP), $0
	JEQ x1_store
	VADDPS (AX), Y0, Y0
x1_store:
	VMOVUPS Y0, (AX)
	ADDQ $32, ws+32(FP)
	ADDQ $32, y+48(FP)
	MOVQ R8, AX
	SHLQ $3, AX
	ADDQ AX, w+8(FP)
	DECQ DX
	JNZ x1_block
x1_done:
	VZEROUPPER
	RET

// MAXREDUCE leaves max(Y0 lanes) in X0. Clobbers Y1.
#define MAXREDUCE \
	VEXTRACTF128 $1, Y0, X1; \
	VMAXPS X1, X0, X0; \
	VPERMILPS $0x4E, X0, X1; \
	VMAXPS X1, X0, X0; \
	VPERMILPS $0xB1, X0, X1; \
	VMAXPS X1, X0, X0

// func amaxAVX2(x *float32, n int) float32
//
// max |x[i]| over n values, n a positive multiple of 32.
TEXT ·amaxAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VPCMPEQD Y5, Y5, Y5
	VPSRLD $1, Y5, Y5
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
amax2_loop:
	VANDPS (SI), Y5, Y4
	VMAXPS Y4, Y0, Y0
	VANDPS 32(SI), Y5, Y4
	VMAXPS Y4, Y1, Y1
	VANDPS 64(SI), Y5, Y4
	VMAXPS Y4, Y2, Y2
	VANDPS 96(SI), Y5, Y4
	VMAXPS Y4, Y3, Y3
	ADDQ $128, SI
	SUBQ $32, CX
	JNZ amax2_loop
	VMAXPS Y1, Y0, Y0
	VMAXPS Y3, Y2, Y2
	VMAXPS Y2, Y0, Y0
	MAXREDUCE
	VZEROUPPER
	MOVSS X0, ret+16(FP)
	RET

// PACK32 turns the int32s of Y0..Y3 into 32 u8 codes at (DI): saturated to int8
// (VPACKSSDW, VPACKSSWB, put back in order by VPERMD with Y6), XOR 0x80 (Y5).
#define PACK32 \
	VPACKSSDW Y1, Y0, Y0; \
	VPACKSSDW Y3, Y2, Y2; \
	VPACKSSWB Y2, Y0, Y0; \
	VPERMD Y0, Y6, Y0; \
	VPXOR Y5, Y0, Y0; \
	VMOVDQU Y0, (DI)

// func quantU8AVX2(dst *uint8, x *float32, n int, inv float32)
//
// dst[i] = round-to-even(x[i]*inv) + 128, saturated to int8 first; n a positive
// multiple of 32.
TEXT ·quantU8AVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS inv+24(FP), Y4
	VMOVDQU i8x80<>(SB), Y5
	VMOVDQU i8perm<>(SB), Y6
quant2_loop:
	VMULPS (SI), Y4, Y0
	VMULPS 32(SI), Y4, Y1
	VMULPS 64(SI), Y4, Y2
	VMULPS 96(SI), Y4, Y3
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VCVTPS2DQ Y2, Y2
	VCVTPS2DQ Y3, Y3
	PACK32
	ADDQ $128, SI
	ADDQ $32, DI
	SUBQ $32, CX
	JNZ quant2_loop
	VZEROUPPER
	RET

// RESID8 loads 8 floats of x at off*4(SI) and 8 codes at off(DX) into r = x - s*(q-128),
// s broadcast in Y8 and 128.0 in Y7 (VMULPS then VSUBPS: the rounding of the Go loop).
// Clobbers Y9.
#define RESID8(off, r) \
	VPMOVZXBD off(DX), r; \
	VCVTDQ2PS r, r; \
	VSUBPS Y7, r, r; \
	VMULPS Y8, r, r; \
	VMOVUPS (off*4)(SI), Y9; \
	VSUBPS r, Y9, r

// RESID32 is RESID8 for the 32 values at SI and DX, into Y0..Y3.
#define RESID32 \
	RESID8(0, Y0); \
	RESID8(8, Y1); \
	RESID8(16, Y2); \
	RESID8(24, Y3)

// func resAmaxAVX2(x *float32, q *uint8, n int, s float32) float32
//
// max |x[i] - s*(q[i]-128)| over n values, n a positive multiple of 32.
TEXT ·resAmaxAVX2(SB), NOSPLIT, $0-36
	MOVQ x+0(FP), SI
	MOVQ q+8(FP), DX
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Y8
	MOVL $0x43000000, AX
	VMOVD AX, X7
	VPBROADCASTD X7, Y7
	VPCMPEQD Y5, Y5, Y5
	VPSRLD $1, Y5, Y5
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
ramax2_loop:
	RESID32
	VANDPS Y0, Y5, Y0
	VMAXPS Y0, Y10, Y10
	VANDPS Y1, Y5, Y1
	VMAXPS Y1, Y11, Y11
	VANDPS Y2, Y5, Y2
	VMAXPS Y2, Y12, Y12
	VANDPS Y3, Y5, Y3
	VMAXPS Y3, Y13, Y13
	ADDQ $128, SI
	ADDQ $32, DX
	SUBQ $32, CX
	JNZ ramax2_loop
	VMAXPS Y11, Y10, Y10
	VMAXPS Y13, Y12, Y12
	VMAXPS Y12, Y10, Y0
	MAXREDUCE
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func resQuantAVX2(dst *uint8, x *float32, q *uint8, n int, s, inv float32)
//
// dst[i] = round-to-even((x[i] - s*(q[i]-128))*inv) + 128; n a positive multiple of 32.
TEXT ·resQuantAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ q+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS s+32(FP), Y8
	VBROADCASTSS inv+36(FP), Y4
	MOVL $0x43000000, AX
	VMOVD AX, X7
	VPBROADCASTD X7, Y7
	VMOVDQU i8x80<>(SB), Y5
	VMOVDQU i8perm<>(SB), Y6
rquant2_loop:
	RESID32
	VMULPS Y4, Y0, Y0
	VMULPS Y4, Y1, Y1
	VMULPS Y4, Y2, Y2
	VMULPS Y4, Y3, Y3
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VCVTPS2DQ Y2, Y2
	VCVTPS2DQ Y3, Y3
	PACK32
	ADDQ $128, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $32, CX
	JNZ rquant2_loop
	VZEROUPPER
	RET
