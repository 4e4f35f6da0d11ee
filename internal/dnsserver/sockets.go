package dnsserver

import (
	"context"
	"net"
	"syscall"
)

// listenUDP opens n UDP sockets on addr. With n > 1 they share the port
// through SO_REUSEPORT so the kernel spreads queries over their readers;
// reuse sets it for one socket too (a wildcard socket beside address
// sockets on its port, addrsockets.go).
func listenUDP(addr string, n int, reuse bool) ([]net.PacketConn, error) {
	lc := net.ListenConfig{Control: noPMTUD}
	if n > 1 || reuse {
		lc.Control = func(network, address string, c syscall.RawConn) error {
			if err := reusePort(network, address, c); err != nil {
				return err
			}
			return noPMTUD(network, address, c)
		}
	}
	first, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		return nil, err
	}
	pcs := []net.PacketConn{first}
	bound := first.LocalAddr().String()
	for len(pcs) < n {
		pc, err := lc.ListenPacket(context.Background(), "udp", bound)
		if err != nil {
			closeAll(pcs)
			return nil, err
		}
		pcs = append(pcs, pc)
	}
	for _, pc := range pcs {
		growBuffers(pc)
	}
	return pcs, nil
}

// socketBuffer is the UDP socket buffer size asked for (the kernel caps
// it at net.core.rmem_max and wmem_max): bursts of queries queue there
// instead of being dropped.
const socketBuffer = 4 << 20

func growBuffers(pc net.PacketConn) {
	if c, ok := pc.(*net.UDPConn); ok {
		_ = c.SetReadBuffer(socketBuffer)
		_ = c.SetWriteBuffer(socketBuffer)
	}
}

func listenTCP(addr string, reuse bool) (net.Listener, error) {
	lc := net.ListenConfig{}
	if reuse {
		lc.Control = reusePort
	}
	return lc.Listen(context.Background(), "tcp", addr)
}
