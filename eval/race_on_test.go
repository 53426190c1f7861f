//go:build race

package eval

// raceEnabled is set under -race, which slows pure-Go pixel loops ~20x.
const raceEnabled = true
