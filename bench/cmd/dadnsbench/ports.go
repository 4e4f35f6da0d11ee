package main

import (
	"fmt"
	"net"
	"strconv"
)

// portPicker hands out loopback ports free for both TCP and UDP, never the
// same one twice in a run.
type portPicker struct {
	used map[int]bool
}

// next returns a port that was free on 127.0.0.1 for TCP and UDP.
func (pp *portPicker) next() (int, error) {
	if pp.used == nil {
		pp.used = map[int]bool{}
	}
	for range 100 {
		port, err := tcpPort()
		if err != nil {
			return 0, err
		}
		if pp.used[port] || !udpFree(port) {
			continue
		}
		pp.used[port] = true
		return port, nil
	}
	return 0, fmt.Errorf("dadnsbench: pick port: no port free for tcp and udp")
}

// tcpPort lets the kernel choose a free TCP port.
func tcpPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("dadnsbench: pick port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// udpFree reports whether port can be bound for UDP.
func udpFree(port int) bool {
	c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// loopback is host:port on 127.0.0.1.
func loopback(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// portOf returns the port of a host:port address, 0 if it has none.
func portOf(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}
