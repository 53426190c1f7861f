package softlabel

// Argmax and AssertDistribution serve the external tests of the labelers.
var (
	Argmax             = argmax
	AssertDistribution = assertDistribution
)
