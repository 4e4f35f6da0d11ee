//go:build !linux

package dnsserver

import "net"

// platformBatchConn: x/net's batches are used where our own are not
// written.
func platformBatchConn(net.PacketConn) (batchConn, bool) { return nil, false }
