//go:build race

package main

// raceEnabled: the race detector multiplies memory use (shadow memory), so
// memory ceilings are not checked under it.
const raceEnabled = true
