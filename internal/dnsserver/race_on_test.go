//go:build race

package dnsserver

// raceEnabled: the race detector slows the server several times over.
const raceEnabled = true
