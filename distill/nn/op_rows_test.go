package nn

import "testing"

func TestAnswerRows(t *testing.T) {
	for _, tc := range []struct{ n, all, want int }{
		{0, 1000, 32}, {1, 1000, 32}, {32, 1000, 32}, {33, 1000, 48}, {48, 1000, 48}, {49, 1000, 64},
		{100, 1000, 128}, {640, 5000, 768}, {768, 5000, 768}, {769, 5000, 1024}, {30, 32, 0}, {90, 96, 0}, {300, 300, 0},
	} {
		if got := answerRows(tc.n, tc.all); got != tc.want {
			t.Errorf("answerRows(%d, %d) = %d, want %d", tc.n, tc.all, got, tc.want)
		}
		if got := answerRows(tc.n, tc.all); got != 0 && (got < tc.n || 2*got > 3*max(tc.n, 32)) {
			t.Errorf("answerRows(%d, %d) = %d: fewer rows than counted or over 50%% padding", tc.n, tc.all, got)
		}
	}
}
