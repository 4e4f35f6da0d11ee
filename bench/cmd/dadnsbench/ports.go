package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// portPicker hands out loopback ports free for both TCP and UDP, never the
// same one twice in a run.
//
// The ports come from below the kernel's ephemeral range
// (ip_local_port_range), not from it: every push of the bench is a new
// TCP connection whose local port, taken from that range, stays in
// TIME_WAIT for a minute after it closes, and at 100,000 pushes most of
// the range is held that way. A port so held cannot be bound
// (TestTimeWaitPortNotFree), yet asking the kernel for a free port (port
// 0) handed out such ports: at 100,000 zones named, NSD and Knot failed
// to bind the ports picked that way several times a run. Each candidate
// is checked by binding that very port for TCP, without SO_REUSEADDR as
// the daemons do, and for UDP.
type portPicker struct {
	used map[int]bool
	rng  *rand.Rand
}

// next returns a port that was free on 127.0.0.1 for TCP and UDP.
func (pp *portPicker) next() (int, error) {
	if pp.used == nil {
		pp.used = map[int]bool{}
		pp.rng = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	}
	lo, hi := pickRange(ephemeralLow())
	for range 1000 {
		port := lo + pp.rng.IntN(hi-lo+1)
		if pp.used[port] || !tcpFree(port) || !udpFree(port) {
			continue
		}
		pp.used[port] = true
		return port, nil
	}
	return 0, fmt.Errorf("dadnsbench: pick port: no port in %d-%d free for tcp and udp", lo, hi)
}

// ephemeralLow is the first port of the kernel's ephemeral range (32768,
// Linux's default, when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}

// pickRange is where ports are picked: the 12,000 ports below the
// ephemeral range starting at low (above 1024), or 20000-29999 when that
// range starts too low to leave room below it.
func pickRange(low int) (int, int) {
	if low-1 < 1024+1000 {
		return 20000, 29999
	}
	return max(1025, low-12000), low - 1
}

// tcpFree reports whether port can be bound for TCP on 127.0.0.1 the way
// a daemon that does not set SO_REUSEADDR binds it.
func tcpFree(port int) bool {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 0)
		}); err != nil {
			return err
		}
		return serr
	}}
	l, err := lc.Listen(context.Background(), "tcp", loopback(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// udpFree reports whether port can be bound for UDP.
func udpFree(port int) bool {
	c, err := net.ListenPacket("udp", loopback(port))
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
