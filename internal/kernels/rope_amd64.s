// RoPE rotation kernels (see Rope in rope.go). Each product is rounded before the
// subtraction or addition (VMULPS, then VSUBPS/VADDPS, no FMA), the order of the
// scalar Go loop, so the results are bit-identical to it. Both end with VZEROUPPER.

//go:build amd64 && !purego

#include "textflag.h"

// ROT computes from a=X1, b=X2, c=C, s=S (registers) y1 = a*c - b*s into Y1OUT and
// y2 = b*c + a*s into Y2OUT, clobbering T0, T1.
#define ROT(A, B, C, S, Y1OUT, Y2OUT, T0, T1) \
	VMULPS C, A, Y1OUT;      \
	VMULPS S, B, T0;         \
	VSUBPS T0, Y1OUT, Y1OUT; \
	VMULPS C, B, Y2OUT;      \
	VMULPS S, A, T1;         \
	VADDPS T1, Y2OUT, Y2OUT

// func ropeAVX2Asm(y1, y2, x1, x2, cos, sin *float32, n int)
TEXT ·ropeAVX2Asm(SB), NOSPLIT, $0-56
	MOVQ y1+0(FP), DI
	MOVQ y2+8(FP), SI
	MOVQ x1+16(FP), R8
	MOVQ x2+24(FP), R9
	MOVQ cos+32(FP), R10
	MOVQ sin+40(FP), R11
	MOVQ n+48(FP), CX
	XORQ AX, AX
rope8_loop:
	VMOVUPS (R8)(AX*4), Y0
	VMOVUPS (R9)(AX*4), Y1
	VMOVUPS (R10)(AX*4), Y2
	VMOVUPS (R11)(AX*4), Y3
	ROT(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7)
	VMOVUPS Y4, (DI)(AX*4)
	VMOVUPS Y5, (SI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JB rope8_loop
	VZEROUPPER
	RET

// func ropeAVX512Asm(y1, y2, x1, x2, cos, sin *float32, n int)
TEXT ·ropeAVX512Asm(SB), NOSPLIT, $0-56
	MOVQ y1+0(FP), DI
	MOVQ y2+8(FP), SI
	MOVQ x1+16(FP), R8
	MOVQ x2+24(FP), R9
	MOVQ cos+32(FP), R10
	MOVQ sin+40(FP), R11
	MOVQ n+48(FP), DX
	XORQ AX, AX
	CMPQ DX, $16
	JB rope16_tail
rope16_loop:
	VMOVUPS (R8)(AX*4), Z0
	VMOVUPS (R9)(AX*4), Z1
	VMOVUPS (R10)(AX*4), Z2
	VMOVUPS (R11)(AX*4), Z3
	ROT(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7)
	VMOVUPS Z4, (DI)(AX*4)
	VMOVUPS Z5, (SI)(AX*4)
	ADDQ $16, AX
	LEAQ 16(AX), BX
	CMPQ BX, DX
	JBE rope16_loop
rope16_tail:
	// The last n-AX < 16 pairs under the mask (1 << (n-AX)) - 1: masked-off lanes
	// are neither read (no fault past the slices' ends) nor written.
	MOVQ DX, CX
	SUBQ AX, CX
	JZ rope16_done
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	KMOVW BX, K1
	VMOVUPS.Z (R8)(AX*4), K1, Z0
	VMOVUPS.Z (R9)(AX*4), K1, Z1
	VMOVUPS.Z (R10)(AX*4), K1, Z2
	VMOVUPS.Z (R11)(AX*4), K1, Z3
	ROT(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7)
	VMOVUPS Z4, K1, (DI)(AX*4)
	VMOVUPS Z5, K1, (SI)(AX*4)
rope16_done:
	VZEROUPPER
	RET
