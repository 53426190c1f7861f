package constrain

import "math"

// Number phases.
const (
	nBegin   uint8 = iota // nothing read
	nSign                 // after '-'
	nZero                 // after a leading 0
	nInt                  // inside the integer digits
	nDot                  // after '.'
	nFrac                 // inside the fraction digits
	nExp                  // after 'e' or 'E'
	nExpSign              // after the exponent's sign
	nExpInt               // inside the exponent digits
)

// maxExpDigits bounds an exponent's digits (float64 needs three).
const maxExpDigits = 3

// Digit limits of generated numbers: float64 holds them exactly enough, and
// they stop a model from writing digits forever.
const (
	maxIntDigits  = 15
	maxFracDigits = 8
)

// Results of stepNumber.
const (
	numOK  = iota // the byte extends the number
	numEnd        // the number is complete and the byte is not part of it
	numBad        // the byte is not allowed
)

// stepNumber reads one byte of a number.
func (f *frame) stepNumber(b byte) int {
	digit := b >= '0' && b <= '9'
	d := float64(b) - '0'
	switch {
	case f.phase == nBegin && b == '-':
		f.phase, f.neg = nSign, true
	case (f.phase == nBegin || f.phase == nSign) && b == '0':
		f.phase = nZero
	case (f.phase == nBegin || f.phase == nSign) && digit:
		f.phase, f.val, f.count = nInt, d, 1
	case f.phase == nInt && digit && f.count < maxIntDigits:
		f.val, f.count = f.val*10+d, f.count+1
	case (f.phase == nZero || f.phase == nInt) && b == '.' && !f.n.integer:
		f.phase, f.scale, f.cur = nDot, 0.1, 0
	case (f.phase == nDot || f.phase == nFrac) && digit && f.cur < maxFracDigits:
		f.phase, f.val, f.scale, f.cur = nFrac, f.val+d*f.scale, f.scale/10, f.cur+1
	case (f.phase == nZero || f.phase == nInt || f.phase == nFrac) && (b == 'e' || b == 'E') && !f.n.integer:
		f.phase, f.pos, f.esc, f.utf = nExp, 0, 0, 0
	case f.phase == nExp && (b == '+' || b == '-'):
		f.phase = nExpSign
		if b == '-' {
			f.utf = 1
		}
	case (f.phase == nExp || f.phase == nExpSign || f.phase == nExpInt) && digit && f.esc < maxExpDigits:
		f.phase, f.pos, f.esc = nExpInt, f.pos*10+int32(d), f.esc+1
	default:
		if f.numEndable() {
			return numEnd
		}
		return numBad
	}
	if !f.numViable() {
		return numBad
	}
	return numOK
}

// numEndable reports whether the number read so far is whole and in bounds.
func (f *frame) numEndable() bool {
	if f.phase != nZero && f.phase != nInt && f.phase != nFrac && f.phase != nExpInt {
		return false
	}
	v := f.val
	if f.phase == nExpInt {
		if v = scaled(v, f.exponent()); math.IsInf(v, 0) {
			return false
		}
	}
	if f.neg {
		v = -v
	}
	n := f.n
	return (v > n.min || (v == n.min && !n.exclMin)) && (v < n.max || (v == n.max && !n.exclMax))
}

// exponent is the signed exponent read so far.
func (f *frame) exponent() int {
	if f.utf == 1 {
		return -int(f.pos)
	}
	return int(f.pos)
}

// expViable reports whether some exponent that continues the digits read
// so far puts the mantissa inside the bounds: the exponents reachable from
// k digits d are d, then d·10+x, ... up to maxExpDigits digits.
func (f *frame) expViable() bool {
	signs := []int{1, -1}
	if f.phase != nExp {
		signs = []int{1 - 2*int(f.utf)}
	}
	for _, sign := range signs {
		lo, hi := int(f.pos), int(f.pos)
		for k := int(f.esc); k <= maxExpDigits; k++ {
			for e := lo; e <= hi && k > 0; e++ { // k == 0: no digit yet, an exponent needs one
				if v := scaled(f.val, sign*e); !math.IsInf(v, 0) && f.reach(v, v) {
					return true
				}
			}
			lo, hi = lo*10, hi*10+9
		}
	}
	return false
}

// expRescue reports whether a mantissa that cannot end in the bounds by its
// digits alone may still reach them through an exponent, in the ranges
// where encoding/json writes one (magnitudes under 1e-6 or from 1e21): a
// gold 5e-07 under maximum 1 must not be masked at its "5".
func (f *frame) expRescue() bool {
	if f.n.integer || f.phase == nSign || f.phase == nBegin {
		return false
	}
	return f.reach(math.SmallestNonzeroFloat64, 1e-6) || f.reach(1e21, math.MaxFloat64)
}

// numViable reports whether some continuation of the number read so far
// ends inside the bounds: by its digits (numViableDigits), or through an
// exponent (expViable, expRescue).
func (f *frame) numViable() bool {
	switch {
	case f.phase == nExp || f.phase == nExpSign || f.phase == nExpInt:
		return f.expViable() // also without bounds: the value must stay finite
	case !f.n.hasBounds:
		return true
	}
	return f.numViableDigits() || f.expRescue()
}

// scaled is a mantissa times 10^e: 0 for a zero mantissa whatever e, ±Inf
// past float64's range.
func scaled(val float64, e int) float64 {
	if val == 0 {
		return 0
	}
	return val * math.Pow10(e)
}

// numViableDigits reports whether some continuation of the number read so far
// ends inside the bounds without an exponent. The values reachable from a prefix form a few
// intervals of magnitudes: a prefix of integer digits d can grow into
// [d·10^j, (d+1)·10^j) for every count j of digits still allowed.
func (f *frame) numViableDigits() bool {
	n := f.n
	switch f.phase {
	case nSign:
		return f.reach(0, math.Pow10(maxIntDigits))
	case nZero:
		return f.reach(0, 1)
	case nDot:
		return f.reach(f.val, f.val+1)
	case nFrac:
		if f.cur == maxFracDigits {
			return f.reach(f.val, f.val)
		}
		return f.reach(f.val, f.val+f.scale*10)
	}
	// Magnitudes only grow with j: stop once past the bound they approach.
	limit := n.max
	if f.neg {
		limit = -n.min
	}
	p := 1.0
	for j := 0; j <= maxIntDigits-int(f.count); j++ {
		if f.val*p > limit {
			return false
		}
		if f.reach(f.val*p, (f.val+1)*p) {
			return true
		}
		p *= 10
	}
	return false
}

// reach reports whether a magnitude in [lo, hi) (the single value lo when
// hi == lo), with the number's sign, lies in the bounds. Integers reach only
// the whole numbers of the range; others may always add fraction digits, so
// any non-empty intersection will do.
func (f *frame) reach(lo, hi float64) bool {
	n := f.n
	if n.integer {
		if hi > lo {
			hi-- // integer magnitudes: [lo, hi-1]
		}
		vlo, vhi := lo, hi
		if f.neg {
			vlo, vhi = -hi, -lo
		}
		return intIn(vlo, vhi, n)
	}
	if hi == lo {
		v := lo
		if f.neg {
			v = -v
		}
		return (v > n.min || (v == n.min && !n.exclMin)) && (v < n.max || (v == n.max && !n.exclMax))
	}
	// Values form [lo, hi) for positives and (-hi, -lo] for negatives.
	vlo, vhi, loOpen, hiOpen := lo, hi, false, true
	if f.neg {
		vlo, vhi, loOpen, hiOpen = -hi, -lo, true, false
	}
	l, lOpen := vlo, loOpen
	if n.min > l || (n.min == l && n.exclMin) {
		l, lOpen = n.min, n.exclMin
	}
	h, hOpen := vhi, hiOpen
	if n.max < h || (n.max == h && n.exclMax) {
		h, hOpen = n.max, n.exclMax
	}
	return l < h || (l == h && !lOpen && !hOpen)
}

// intIn reports whether some integer lies in [lo, hi] and in n's bounds.
func intIn(lo, hi float64, n *node) bool {
	minI := math.Ceil(n.min)
	if n.exclMin && minI == n.min {
		minI++
	}
	maxI := math.Floor(n.max)
	if n.exclMax && maxI == n.max {
		maxI--
	}
	return math.Max(math.Ceil(lo), minI) <= math.Min(math.Floor(hi), maxI)
}
