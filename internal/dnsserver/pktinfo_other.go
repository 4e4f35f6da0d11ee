//go:build !linux

package dnsserver

// oobSize is room for the control messages asked for on wildcard sockets.
const oobSize = 64

// replySource leaves the source address to the kernel where pktinfo
// replies are not wired up: on a host with one address per family that
// is the address queried.
func replySource(_, _ []byte, _ int) []byte { return nil }
