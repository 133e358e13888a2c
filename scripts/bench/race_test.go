//go:build race

package main

// The race detector adds allocations of its own, a few more or less from
// run to run, so under it the ceiling has that much headroom.
const raceAllocHeadroom = 18
