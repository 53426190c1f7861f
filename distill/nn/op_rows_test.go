package nn

import "testing"

func TestAnswerRows(t *testing.T) {
	for _, tc := range []struct{ n, all, want int }{
		{0, 1000, 32}, {1, 1000, 32}, {32, 1000, 32}, {33, 1000, 40}, {40, 1000, 40}, {41, 1000, 48},
		{100, 1000, 112}, {640, 5000, 640}, {641, 5000, 768}, {30, 32, 0}, {90, 96, 0}, {300, 300, 0},
	} {
		if got := answerRows(tc.n, tc.all); got != tc.want {
			t.Errorf("answerRows(%d, %d) = %d, want %d", tc.n, tc.all, got, tc.want)
		}
		if got := answerRows(tc.n, tc.all); got != 0 && (got < tc.n || 4*got > 5*max(tc.n, 32)) {
			t.Errorf("answerRows(%d, %d) = %d: fewer rows than counted or over 25%% padding", tc.n, tc.all, got)
		}
	}
}
