package constrain

import "math"

// Number phases.
const (
	nBegin uint8 = iota // nothing read
	nSign               // after '-'
	nZero               // after a leading 0
	nInt                // inside the integer digits
	nDot                // after '.'
	nFrac               // inside the fraction digits
)

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
	if f.phase != nZero && f.phase != nInt && f.phase != nFrac {
		return false
	}
	v := f.val
	if f.neg {
		v = -v
	}
	n := f.n
	return (v > n.min || (v == n.min && !n.exclMin)) && (v < n.max || (v == n.max && !n.exclMax))
}

// numViable reports whether some continuation of the number read so far
// ends inside the bounds. The values reachable from a prefix form a few
// intervals of magnitudes: a prefix of integer digits d can grow into
// [d·10^j, (d+1)·10^j) for every count j of digits still allowed.
func (f *frame) numViable() bool {
	n := f.n
	if !n.hasBounds {
		return true
	}
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
