//go:build !race

package main

const raceAllocHeadroom = 0
