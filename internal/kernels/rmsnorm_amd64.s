// RMSNorm element-wise kernels (see ScaleMul, ScaleMulSub and MulScaleAdd in
// rmsnorm.go). Each product is rounded before the next multiplication, subtraction or
// addition (VMULPS, then VMULPS/VSUBPS/VADDPS, no FMA), the order of the scalar Go
// loops, so the results are bit-identical to them. All end with VZEROUPPER.

//go:build amd64 && !purego

#include "textflag.h"

// TAILMASK sets K1 to (1 << (N-AX)) - 1, the lanes of the last N-AX < 16 elements, or
// jumps to DONE when there are none; it clobbers CX and BX. Masked-off lanes are
// neither read (no fault past the slices' ends) nor written.
#define TAILMASK(N, DONE) \
	MOVQ N, CX;  \
	SUBQ AX, CX; \
	JZ DONE;     \
	MOVL $1, BX; \
	SHLL CX, BX; \
	DECL BX;     \
	KMOVW BX, K1

// func scaleMulAVX2Asm(y, x, w *float32, n int, s float32)
TEXT ·scaleMulAVX2Asm(SB), NOSPLIT, $0-36
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), R8
	MOVQ n+24(FP), CX
	VBROADCASTSS s+32(FP), Y15
	XORQ AX, AX
scalemul8_loop:
	VMULPS (SI)(AX*4), Y15, Y0
	VMULPS (R8)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JB scalemul8_loop
	VZEROUPPER
	RET

// func scaleMulAVX512Asm(y, x, w *float32, n int, s float32)
TEXT ·scaleMulAVX512Asm(SB), NOSPLIT, $0-36
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), R8
	MOVQ n+24(FP), DX
	VBROADCASTSS s+32(FP), Z15
	XORQ AX, AX
	CMPQ DX, $16
	JB scalemul16_tail
scalemul16_loop:
	VMULPS (SI)(AX*4), Z15, Z0
	VMULPS (R8)(AX*4), Z0, Z0
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ $16, AX
	LEAQ 16(AX), BX
	CMPQ BX, DX
	JBE scalemul16_loop
scalemul16_tail:
	TAILMASK(DX, scalemul16_done)
	VMOVUPS.Z (SI)(AX*4), K1, Z1
	VMOVUPS.Z (R8)(AX*4), K1, Z2
	VMULPS Z1, Z15, Z0
	VMULPS Z2, Z0, Z0
	VMOVUPS Z0, K1, (DI)(AX*4)
scalemul16_done:
	VZEROUPPER
	RET

// SMS computes from w=VW, g=VG, x=VX, s=VS, c=VC (registers) ((s*w)*g) - (x*c) into
// OUT, clobbering TMP.
#define SMS(VW, VG, VX, VS, VC, OUT, TMP) \
	VMULPS VW, VS, OUT;  \
	VMULPS VG, OUT, OUT; \
	VMULPS VX, VC, TMP;  \
	VSUBPS TMP, OUT, OUT

// func scaleMulSubAVX2Asm(dx, w, dy, x *float32, n int, s, c float32)
TEXT ·scaleMulSubAVX2Asm(SB), NOSPLIT, $0-48
	MOVQ dx+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ dy+16(FP), R8
	MOVQ x+24(FP), R9
	MOVQ n+32(FP), CX
	VBROADCASTSS s+40(FP), Y14
	VBROADCASTSS c+44(FP), Y15
	XORQ AX, AX
sms8_loop:
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS (R8)(AX*4), Y1
	VMOVUPS (R9)(AX*4), Y2
	SMS(Y0, Y1, Y2, Y14, Y15, Y3, Y4)
	VMOVUPS Y3, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JB sms8_loop
	VZEROUPPER
	RET

// func scaleMulSubAVX512Asm(dx, w, dy, x *float32, n int, s, c float32)
TEXT ·scaleMulSubAVX512Asm(SB), NOSPLIT, $0-48
	MOVQ dx+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ dy+16(FP), R8
	MOVQ x+24(FP), R9
	MOVQ n+32(FP), DX
	VBROADCASTSS s+40(FP), Z14
	VBROADCASTSS c+44(FP), Z15
	XORQ AX, AX
	CMPQ DX, $16
	JB sms16_tail
sms16_loop:
	VMOVUPS (SI)(AX*4), Z0
	VMOVUPS (R8)(AX*4), Z1
	VMOVUPS (R9)(AX*4), Z2
	SMS(Z0, Z1, Z2, Z14, Z15, Z3, Z4)
	VMOVUPS Z3, (DI)(AX*4)
	ADDQ $16, AX
	LEAQ 16(AX), BX
	CMPQ BX, DX
	JBE sms16_loop
sms16_tail:
	TAILMASK(DX, sms16_done)
	VMOVUPS.Z (SI)(AX*4), K1, Z0
	VMOVUPS.Z (R8)(AX*4), K1, Z1
	VMOVUPS.Z (R9)(AX*4), K1, Z2
	SMS(Z0, Z1, Z2, Z14, Z15, Z3, Z4)
	VMOVUPS Z3, K1, (DI)(AX*4)
sms16_done:
	VZEROUPPER
	RET

// MSA adds (g*x)*s from g=VG, x=VX, s=VS (registers) to OUT, clobbering TMP.
#define MSA(VG, VX, VS, OUT, TMP) \
	VMULPS VX, VG, TMP;  \
	VMULPS VS, TMP, TMP; \
	VADDPS TMP, OUT, OUT

// func mulScaleAddAVX2Asm(out, dy, x *float32, n int, s float32)
TEXT ·mulScaleAddAVX2Asm(SB), NOSPLIT, $0-36
	MOVQ out+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ x+16(FP), R8
	MOVQ n+24(FP), CX
	VBROADCASTSS s+32(FP), Y15
	XORQ AX, AX
msa8_loop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (R8)(AX*4), Y2
	MSA(Y1, Y2, Y15, Y0, Y3)
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JB msa8_loop
	VZEROUPPER
	RET

// func mulScaleAddAVX512Asm(out, dy, x *float32, n int, s float32)
TEXT ·mulScaleAddAVX512Asm(SB), NOSPLIT, $0-36
	MOVQ out+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ x+16(FP), R8
	MOVQ n+24(FP), DX
	VBROADCASTSS s+32(FP), Z15
	XORQ AX, AX
	CMPQ DX, $16
	JB msa16_tail
msa16_loop:
	VMOVUPS (DI)(AX*4), Z0
	VMOVUPS (SI)(AX*4), Z1
	VMOVUPS (R8)(AX*4), Z2
	MSA(Z1, Z2, Z15, Z0, Z3)
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ $16, AX
	LEAQ 16(AX), BX
	CMPQ BX, DX
	JBE msa16_loop
msa16_tail:
	TAILMASK(DX, msa16_done)
	VMOVUPS.Z (DI)(AX*4), K1, Z0
	VMOVUPS.Z (SI)(AX*4), K1, Z1
	VMOVUPS.Z (R8)(AX*4), K1, Z2
	MSA(Z1, Z2, Z15, Z0, Z3)
	VMOVUPS Z0, K1, (DI)(AX*4)
msa16_done:
	VZEROUPPER
	RET
