package lexicon

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Dates fall in a fixed window, not around time.Now, so that a seed gives the
// same dates on every run.
const (
	firstYear = 2025
	lastYear  = 2027
)

// DateIn returns a date (YYYY-MM-DD) between January 1 of fromYear and
// December 31 of toYear, e.g. DateIn(r, 1945, 2007) for a date of birth.
func DateIn(r *rand.Rand, fromYear, toYear int) string {
	return dayIn(r, fromYear, toYear).Format(time.DateOnly)
}

// dayIn returns a uniformly chosen day of the years fromYear..toYear (UTC midnight).
func dayIn(r *rand.Rand, fromYear, toYear int) time.Time {
	if toYear < fromYear {
		toYear = fromYear
	}
	start := time.Date(fromYear, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(toYear+1, 1, 1, 0, 0, 0, 0, time.UTC)
	days := int(end.Sub(start).Hours() / 24)
	return start.AddDate(0, 0, r.IntN(days))
}

func date(_ *data, r *rand.Rand) string { return DateIn(r, firstYear, lastYear) }

// dateTime returns an RFC 3339 UTC timestamp in daytime hours on a quarter hour
// (or, one time in five, any five-minute mark): the times people state.
func dateTime(_ *data, r *rand.Rand) string {
	h, m := hourMinute(r)
	t := dayIn(r, firstYear, lastYear).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	return t.Format(time.RFC3339)
}

// clock returns a time of day, HH:MM.
func clock(_ *data, r *rand.Rand) string {
	h, m := hourMinute(r)
	return fmt.Sprintf("%02d:%02d", h, m)
}

func hourMinute(r *rand.Rand) (h, m int) {
	h = 6 + r.IntN(16)
	if r.IntN(5) == 0 {
		return h, 5 * r.IntN(12)
	}
	return h, 15 * r.IntN(4)
}

// ImpossibleDate returns a well-formed but non-existent date such as
// 2026-02-30 or 2026-13-05: what a user might state by mistake, which a "date"
// format must reject.
func ImpossibleDate(r *rand.Rand) string {
	year := firstYear + r.IntN(lastYear-firstYear+1)
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf("%d-02-%d", year, 30+r.IntN(2))
	case 1:
		return fmt.Sprintf("%d-%02d-31", year, []int{4, 6, 9, 11}[r.IntN(4)])
	case 2:
		return fmt.Sprintf("%d-13-%02d", year, 1+r.IntN(28))
	default:
		return fmt.Sprintf("%d-%02d-32", year, 1+r.IntN(12))
	}
}

// ImpossibleTime returns a well-formed but non-existent time of day (25:30, 18:75).
func ImpossibleTime(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return fmt.Sprintf("%d:%02d", 24+r.IntN(6), 15*r.IntN(4))
	}
	return fmt.Sprintf("%02d:%d", 6+r.IntN(16), 60+r.IntN(40))
}
