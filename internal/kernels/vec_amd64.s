// Element-wise kernels of a training step in AVX2/FMA (8 float32 lanes), run on
// AVX2 and AVX-512 CPUs alike: each processes n values, n a multiple of 8 (the Go
// wrappers in vec.go do the tail). Every function ends with VZEROUPPER, without which
// the SSE code after it runs several times slower.

//go:build amd64 && !purego

#include "textflag.h"

// Constants, each replicated over 8 lanes so it can be a 256-bit memory operand.

DATA expHi<>+0(SB)/4, $0x42b170a4
DATA expHi<>+4(SB)/4, $0x42b170a4
DATA expHi<>+8(SB)/4, $0x42b170a4
DATA expHi<>+12(SB)/4, $0x42b170a4
DATA expHi<>+16(SB)/4, $0x42b170a4
DATA expHi<>+20(SB)/4, $0x42b170a4
DATA expHi<>+24(SB)/4, $0x42b170a4
DATA expHi<>+28(SB)/4, $0x42b170a4
GLOBL expHi<>(SB), RODATA|NOPTR, $32

DATA expLo<>+0(SB)/4, $0xc2aea8f6
DATA expLo<>+4(SB)/4, $0xc2aea8f6
DATA expLo<>+8(SB)/4, $0xc2aea8f6
DATA expLo<>+12(SB)/4, $0xc2aea8f6
DATA expLo<>+16(SB)/4, $0xc2aea8f6
DATA expLo<>+20(SB)/4, $0xc2aea8f6
DATA expLo<>+24(SB)/4, $0xc2aea8f6
DATA expLo<>+28(SB)/4, $0xc2aea8f6
GLOBL expLo<>(SB), RODATA|NOPTR, $32

DATA expLog2e<>+0(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+4(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+8(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+12(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+16(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+20(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+24(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL expLog2e<>(SB), RODATA|NOPTR, $32

DATA expC1<>+0(SB)/4, $0x3f318000
DATA expC1<>+4(SB)/4, $0x3f318000
DATA expC1<>+8(SB)/4, $0x3f318000
DATA expC1<>+12(SB)/4, $0x3f318000
DATA expC1<>+16(SB)/4, $0x3f318000
DATA expC1<>+20(SB)/4, $0x3f318000
DATA expC1<>+24(SB)/4, $0x3f318000
DATA expC1<>+28(SB)/4, $0x3f318000
GLOBL expC1<>(SB), RODATA|NOPTR, $32

DATA expC2<>+0(SB)/4, $0xb95e8083
DATA expC2<>+4(SB)/4, $0xb95e8083
DATA expC2<>+8(SB)/4, $0xb95e8083
DATA expC2<>+12(SB)/4, $0xb95e8083
DATA expC2<>+16(SB)/4, $0xb95e8083
DATA expC2<>+20(SB)/4, $0xb95e8083
DATA expC2<>+24(SB)/4, $0xb95e8083
DATA expC2<>+28(SB)/4, $0xb95e8083
GLOBL expC2<>(SB), RODATA|NOPTR, $32

DATA expP0<>+0(SB)/4, $0x39506967
DATA expP0<>+4(SB)/4, $0x39506967
DATA expP0<>+8(SB)/4, $0x39506967
DATA expP0<>+12(SB)/4, $0x39506967
DATA expP0<>+16(SB)/4, $0x39506967
DATA expP0<>+20(SB)/4, $0x39506967
DATA expP0<>+24(SB)/4, $0x39506967
DATA expP0<>+28(SB)/4, $0x39506967
GLOBL expP0<>(SB), RODATA|NOPTR, $32

DATA expP1<>+0(SB)/4, $0x3ab743ce
DATA expP1<>+4(SB)/4, $0x3ab743ce
DATA expP1<>+8(SB)/4, $0x3ab743ce
DATA expP1<>+12(SB)/4, $0x3ab743ce
DATA expP1<>+16(SB)/4, $0x3ab743ce
DATA expP1<>+20(SB)/4, $0x3ab743ce
DATA expP1<>+24(SB)/4, $0x3ab743ce
DATA expP1<>+28(SB)/4, $0x3ab743ce
GLOBL expP1<>(SB), RODATA|NOPTR, $32

DATA expP2<>+0(SB)/4, $0x3c088908
DATA expP2<>+4(SB)/4, $0x3c088908
DATA expP2<>+8(SB)/4, $0x3c088908
DATA expP2<>+12(SB)/4, $0x3c088908
DATA expP2<>+16(SB)/4, $0x3c088908
DATA expP2<>+20(SB)/4, $0x3c088908
DATA expP2<>+24(SB)/4, $0x3c088908
DATA expP2<>+28(SB)/4, $0x3c088908
GLOBL expP2<>(SB), RODATA|NOPTR, $32

DATA expP3<>+0(SB)/4, $0x3d2aa9c1
DATA expP3<>+4(SB)/4, $0x3d2aa9c1
DATA expP3<>+8(SB)/4, $0x3d2aa9c1
DATA expP3<>+12(SB)/4, $0x3d2aa9c1
DATA expP3<>+16(SB)/4, $0x3d2aa9c1
DATA expP3<>+20(SB)/4, $0x3d2aa9c1
DATA expP3<>+24(SB)/4, $0x3d2aa9c1
DATA expP3<>+28(SB)/4, $0x3d2aa9c1
GLOBL expP3<>(SB), RODATA|NOPTR, $32

DATA expP4<>+0(SB)/4, $0x3e2aaaaa
DATA expP4<>+4(SB)/4, $0x3e2aaaaa
DATA expP4<>+8(SB)/4, $0x3e2aaaaa
DATA expP4<>+12(SB)/4, $0x3e2aaaaa
DATA expP4<>+16(SB)/4, $0x3e2aaaaa
DATA expP4<>+20(SB)/4, $0x3e2aaaaa
DATA expP4<>+24(SB)/4, $0x3e2aaaaa
DATA expP4<>+28(SB)/4, $0x3e2aaaaa
GLOBL expP4<>(SB), RODATA|NOPTR, $32

DATA expP5<>+0(SB)/4, $0x3f000000
DATA expP5<>+4(SB)/4, $0x3f000000
DATA expP5<>+8(SB)/4, $0x3f000000
DATA expP5<>+12(SB)/4, $0x3f000000
DATA expP5<>+16(SB)/4, $0x3f000000
DATA expP5<>+20(SB)/4, $0x3f000000
DATA expP5<>+24(SB)/4, $0x3f000000
DATA expP5<>+28(SB)/4, $0x3f000000
GLOBL expP5<>(SB), RODATA|NOPTR, $32

DATA expOne<>+0(SB)/4, $0x3f800000
DATA expOne<>+4(SB)/4, $0x3f800000
DATA expOne<>+8(SB)/4, $0x3f800000
DATA expOne<>+12(SB)/4, $0x3f800000
DATA expOne<>+16(SB)/4, $0x3f800000
DATA expOne<>+20(SB)/4, $0x3f800000
DATA expOne<>+24(SB)/4, $0x3f800000
DATA expOne<>+28(SB)/4, $0x3f800000
GLOBL expOne<>(SB), RODATA|NOPTR, $32

DATA expBias<>+0(SB)/4, $0x0000007f
DATA expBias<>+4(SB)/4, $0x0000007f
DATA expBias<>+8(SB)/4, $0x0000007f
DATA expBias<>+12(SB)/4, $0x0000007f
DATA expBias<>+16(SB)/4, $0x0000007f
DATA expBias<>+20(SB)/4, $0x0000007f
DATA expBias<>+24(SB)/4, $0x0000007f
DATA expBias<>+28(SB)/4, $0x0000007f
GLOBL expBias<>(SB), RODATA|NOPTR, $32

DATA expInf<>+0(SB)/4, $0x7f800000
DATA expInf<>+4(SB)/4, $0x7f800000
DATA expInf<>+8(SB)/4, $0x7f800000
DATA expInf<>+12(SB)/4, $0x7f800000
DATA expInf<>+16(SB)/4, $0x7f800000
DATA expInf<>+20(SB)/4, $0x7f800000
DATA expInf<>+24(SB)/4, $0x7f800000
DATA expInf<>+28(SB)/4, $0x7f800000
GLOBL expInf<>(SB), RODATA|NOPTR, $32

DATA signBit<>+0(SB)/4, $0x80000000
DATA signBit<>+4(SB)/4, $0x80000000
DATA signBit<>+8(SB)/4, $0x80000000
DATA signBit<>+12(SB)/4, $0x80000000
DATA signBit<>+16(SB)/4, $0x80000000
DATA signBit<>+20(SB)/4, $0x80000000
DATA signBit<>+24(SB)/4, $0x80000000
DATA signBit<>+28(SB)/4, $0x80000000
GLOBL signBit<>(SB), RODATA|NOPTR, $32

// EXP replaces Y0 by e^Y0 (the Cephes polynomial of expf32, clamped, then +Inf above
// 88.72, 0 below -87.33, NaN kept); it clobbers Y1-Y5.

// func expSubAVX2(dst, src *float32, n int, sub float32) float32
TEXT ·expSubAVX2(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS sub+24(FP), Y15
	VXORPS Y14, Y14, Y14
	TESTQ CX, CX
	JZ expsub_done
expsub_loop:
	VMOVUPS (SI), Y0
	VSUBPS Y15, Y0, Y0
	VMINPS expHi<>(SB), Y0, Y1
	VMAXPS expLo<>(SB), Y1, Y1
	VMULPS expLog2e<>(SB), Y1, Y2
	VROUNDPS $0, Y2, Y2
	VMOVAPS Y1, Y3
	VFNMADD231PS expC1<>(SB), Y2, Y3
	VFNMADD231PS expC2<>(SB), Y2, Y3
	VMOVUPS expP0<>(SB), Y4
	VFMADD213PS expP1<>(SB), Y3, Y4
	VFMADD213PS expP2<>(SB), Y3, Y4
	VFMADD213PS expP3<>(SB), Y3, Y4
	VFMADD213PS expP4<>(SB), Y3, Y4
	VFMADD213PS expP5<>(SB), Y3, Y4
	VMULPS Y3, Y3, Y5
	VFMADD213PS Y3, Y5, Y4
	VADDPS expOne<>(SB), Y4, Y4
	VCVTPS2DQ Y2, Y2
	VPADDD expBias<>(SB), Y2, Y2
	VPSLLD $23, Y2, Y2
	VMULPS Y2, Y4, Y4
	VCMPPS $0x1e, expHi<>(SB), Y0, Y5
	VBLENDVPS Y5, expInf<>(SB), Y4, Y4
	VCMPPS $0x11, expLo<>(SB), Y0, Y5
	VANDNPS Y4, Y5, Y4
	VCMPPS $3, Y0, Y0, Y5
	VBLENDVPS Y5, Y0, Y4, Y0
	VMOVUPS Y0, (DI)
	VADDPS Y0, Y14, Y14
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ expsub_loop
expsub_done:
	VEXTRACTF128 $1, Y14, X1
	VADDPS X1, X14, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func sigmoidAVX2(dst, src *float32, n int)
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VMOVUPS signBit<>(SB), Y15
	VMOVUPS expOne<>(SB), Y14
	TESTQ CX, CX
	JZ sigmoid_done
sigmoid_loop:
	VMOVUPS (SI), Y0
	VXORPS Y15, Y0, Y0
	VMINPS expHi<>(SB), Y0, Y1
	VMAXPS expLo<>(SB), Y1, Y1
	VMULPS expLog2e<>(SB), Y1, Y2
	VROUNDPS $0, Y2, Y2
	VMOVAPS Y1, Y3
	VFNMADD231PS expC1<>(SB), Y2, Y3
	VFNMADD231PS expC2<>(SB), Y2, Y3
	VMOVUPS expP0<>(SB), Y4
	VFMADD213PS expP1<>(SB), Y3, Y4
	VFMADD213PS expP2<>(SB), Y3, Y4
	VFMADD213PS expP3<>(SB), Y3, Y4
	VFMADD213PS expP4<>(SB), Y3, Y4
	VFMADD213PS expP5<>(SB), Y3, Y4
	VMULPS Y3, Y3, Y5
	VFMADD213PS Y3, Y5, Y4
	VADDPS expOne<>(SB), Y4, Y4
	VCVTPS2DQ Y2, Y2
	VPADDD expBias<>(SB), Y2, Y2
	VPSLLD $23, Y2, Y2
	VMULPS Y2, Y4, Y4
	VCMPPS $0x1e, expHi<>(SB), Y0, Y5
	VBLENDVPS Y5, expInf<>(SB), Y4, Y4
	VCMPPS $0x11, expLo<>(SB), Y0, Y5
	VANDNPS Y4, Y5, Y4
	VCMPPS $3, Y0, Y0, Y5
	VBLENDVPS Y5, Y0, Y4, Y0
	VADDPS Y14, Y0, Y0
	VDIVPS Y0, Y14, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ sigmoid_loop
sigmoid_done:
	VZEROUPPER
	RET

// func adamwAVX2(param, grad, m, v *float32, n int, h *[8]float64)
// h: b1, c1, b2, c2, decay, stepSize, invBC2, eps. The same float64 operations in the
// same order as the scalar AdamW.Step, 4 values per iteration (n a multiple of 4).
TEXT ·adamwAVX2(SB), NOSPLIT, $0-48
	MOVQ param+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ h+40(FP), AX
	VBROADCASTSD 0(AX), Y8
	VBROADCASTSD 8(AX), Y9
	VBROADCASTSD 16(AX), Y10
	VBROADCASTSD 24(AX), Y11
	VBROADCASTSD 32(AX), Y12
	VBROADCASTSD 40(AX), Y13
	VBROADCASTSD 48(AX), Y14
	VBROADCASTSD 56(AX), Y15
	TESTQ CX, CX
	JZ adamw_done
adamw_loop:
	VCVTPS2PD (SI), Y0
	VCVTPS2PD (R8), Y1
	VCVTPS2PD (R9), Y2
	VCVTPS2PD (DI), Y3
	VMULPD Y8, Y1, Y1
	VMULPD Y9, Y0, Y4
	VADDPD Y4, Y1, Y1
	VMULPD Y10, Y2, Y2
	VMULPD Y11, Y0, Y4
	VMULPD Y0, Y4, Y4
	VADDPD Y4, Y2, Y2
	VCVTPD2PSY Y1, X5
	VMOVUPS X5, (R8)
	VCVTPD2PSY Y2, X5
	VMOVUPS X5, (R9)
	VSQRTPD Y2, Y4
	VMULPD Y14, Y4, Y4
	VADDPD Y15, Y4, Y4
	VMULPD Y13, Y1, Y5
	VDIVPD Y4, Y5, Y5
	VMULPD Y12, Y3, Y3
	VSUBPD Y5, Y3, Y3
	VCVTPD2PSY Y3, X3
	VMOVUPS X3, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	ADDQ $16, R8
	ADDQ $16, R9
	SUBQ $4, CX
	JNZ adamw_loop
adamw_done:
	VZEROUPPER
	RET
