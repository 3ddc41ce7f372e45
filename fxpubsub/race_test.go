//go:build race

package fxpubsub

// raceEnabled reports that this test binary was built with -race.
const raceEnabled = true
