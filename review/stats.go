package review

import (
	"math"
	"slices"
)

// Progress is how far a review is.
type Progress struct {
	// Sampled is the number of records in the sample.
	Sampled int `json:"sampled"`
	// Decided counts records with a final decision.
	Decided int `json:"decided"`
	// Pending counts records that still take reviews (AwaitingSecond included).
	Pending int `json:"pending"`
	// AwaitingSecond counts records with one of their two reviews (two-reviewer mode).
	AwaitingSecond int `json:"awaiting_second,omitempty"`
	// Leased counts leases held at the queue's clock (the latest time it was given).
	Leased int `json:"leased"`
	// NeedsAdjudication counts records whose two reviews disagree and that no
	// adjudicator has settled yet.
	NeedsAdjudication int `json:"needs_adjudication"`
	// PerReviewer counts each person's decisions in force, reviews and
	// adjudications.
	PerReviewer map[string]int `json:"per_reviewer,omitempty"`
}

// Progress reports the queue's progress.
func (q *Queue) Progress() Progress {
	p := Progress{Sampled: len(q.Items), PerReviewer: map[string]int{}}
	for i := range q.Items {
		it := &q.Items[i]
		switch st := q.status(it); {
		case isFinal(st):
			p.Decided++
		case st == StatusNeedsAdjudication:
			p.NeedsAdjudication++
		default:
			p.Pending++
			if st == StatusPendingSecond {
				p.AwaitingSecond++
			}
		}
		for _, e := range it.Reviews {
			p.PerReviewer[e.Decision.Reviewer]++
		}
		if it.Adjudication != nil {
			p.PerReviewer[it.Adjudication.Decision.Reviewer]++
		}
	}
	for _, l := range q.Leases {
		if q.Clock.Before(l.Expires) {
			p.Leased++
		}
	}
	return p
}

// WilsonZ is the z of a two-sided 95% interval.
const WilsonZ = 1.96

// Summary is the release decision of a review.
//
// An edit means the original record was wrong, so it counts as an error:
// ApprovalRate = Approved/Decided and ErrorRate = (Rejected+Edited)/Decided,
// over final decisions only. Released needs every sampled record decided and
// ApprovalRate >= Threshold.
type Summary struct {
	// Sampled is the number of records in the sample.
	Sampled int `json:"sampled"`
	// Decided counts records with a final decision; Approved, Rejected and
	// Edited split them by final kind.
	Decided  int `json:"decided"`
	Approved int `json:"approved"`
	Rejected int `json:"rejected"`
	Edited   int `json:"edited"`
	// ApprovalRate is Approved/Decided (0 when nothing is decided).
	ApprovalRate float64 `json:"approval_rate"`
	// ErrorRate is (Rejected+Edited)/Decided (0 when nothing is decided).
	ErrorRate float64 `json:"error_rate"`
	// WilsonLow and WilsonHigh bound the error rate: the 95% Wilson score
	// interval of (Rejected+Edited) errors in Decided records.
	WilsonLow  float64 `json:"wilson_low"`
	WilsonHigh float64 `json:"wilson_high"`
	// Kappa is Cohen's kappa between first and second reviews (categories
	// approve, reject, edit) over records with both; nil in single-reviewer
	// mode or when undefined (no such record, or one category only).
	Kappa *float64 `json:"kappa,omitempty"`
	// Disagreements counts records whose two reviews disagree, adjudicated or not.
	Disagreements int `json:"disagreements"`
	// Adjudicated counts records settled by an adjudicator.
	Adjudicated int `json:"adjudicated"`
	// RejectReasons counts final rejects by the deciding decision's reason.
	RejectReasons map[string]int `json:"reject_reasons,omitempty"`
	// PerReviewer counts each person's decisions in force.
	PerReviewer map[string]int `json:"per_reviewer,omitempty"`
	// Threshold is the approval rate a release needs.
	Threshold float64 `json:"threshold"`
	// Released is set when every record is decided and ApprovalRate >= Threshold.
	Released bool `json:"released"`
}

// Summary computes the release decision and its statistics.
func (q *Queue) Summary() Summary {
	s := Summary{Sampled: len(q.Items), Threshold: q.Config.Threshold, RejectReasons: map[string]int{},
		PerReviewer: q.Progress().PerReviewer}
	final := q.Final()
	var first, second []Kind
	for i := range q.Items {
		it := &q.Items[i]
		if len(it.Reviews) == 2 {
			first = append(first, it.Reviews[0].Decision.Kind)
			second = append(second, it.Reviews[1].Decision.Kind)
			if !agree(it.Record, it.Reviews[0].Decision, it.Reviews[1].Decision) {
				s.Disagreements++
			}
		}
		fd, ok := final[it.Record.ID]
		if !ok {
			continue
		}
		s.Decided++
		switch fd.Kind {
		case Approve:
			s.Approved++
		case Reject:
			s.Rejected++
			s.RejectReasons[fd.Reason]++
		case Edit:
			s.Edited++
		}
		if fd.Adjudicated {
			s.Adjudicated++
		}
	}
	if s.Decided > 0 {
		s.ApprovalRate = float64(s.Approved) / float64(s.Decided)
		s.ErrorRate = float64(s.Rejected+s.Edited) / float64(s.Decided)
	}
	s.WilsonLow, s.WilsonHigh = Wilson(s.Rejected+s.Edited, s.Decided, WilsonZ)
	if q.Config.TwoReviewers {
		if k, ok := CohensKappa(first, second); ok {
			s.Kappa = &k
		}
	}
	// Decided is the count of an exact ratio: allow for the rounding of the division.
	s.Released = s.Decided == s.Sampled && s.Decided > 0 && s.ApprovalRate >= s.Threshold-1e-12
	return s
}

// Wilson returns the Wilson score interval of a proportion of successes in n
// trials at normal quantile z (1.96 for 95%). With n == 0 it returns [0, 1].
func Wilson(successes, n int, z float64) (low, high float64) {
	if n <= 0 {
		return 0, 1
	}
	nf := float64(n)
	p := float64(successes) / nf
	z2 := z * z
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z / denom * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, center-half), math.Min(1, center+half)
}

// CohensKappa returns Cohen's kappa of two raters' labels of the same items,
// a[i] and b[i] labelling item i: (po - pe) / (1 - pe), with po the observed
// agreement and pe the agreement expected by chance from each rater's label
// frequencies. ok is false when it is undefined: no items, lengths that
// differ, or pe == 1 (both raters used one and the same label throughout).
func CohensKappa(a, b []Kind) (kappa float64, ok bool) {
	n := len(a)
	if n == 0 || n != len(b) {
		return 0, false
	}
	countA, countB := map[Kind]int{}, map[Kind]int{}
	agreed := 0
	for i := range a {
		countA[a[i]]++
		countB[b[i]]++
		if a[i] == b[i] {
			agreed++
		}
	}
	// Sum over categories in sorted order: the float sum is then the same on every run.
	var cats []Kind
	for k := range countA {
		cats = append(cats, k)
	}
	slices.Sort(cats)
	nf := float64(n)
	pe := 0.0
	for _, k := range cats {
		pe += float64(countA[k]) / nf * float64(countB[k]) / nf
	}
	if pe >= 1-1e-12 {
		return 0, false
	}
	po := float64(agreed) / nf
	return (po - pe) / (1 - pe), true
}
