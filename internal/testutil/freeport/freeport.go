// Package freeport picks loopback ports for the daemons tests and the
// bench start (named, nsd, knotd, mariadbd, Galera and its rsync SST
// daemon, dadns itself).
//
// The ports come from below the kernel's ephemeral range
// (ip_local_port_range), not from it. Asking the kernel for a free port
// (port 0) hands out a port of that range, and between the pick and the
// daemon's own bind, seconds later, any outgoing connection of the
// machine may take it as its local port, or leave it in TIME_WAIT, where
// a daemon that does not set SO_REUSEADDR cannot bind it
// (TestTimeWaitPortNotFree). That happened: at 100,000 pushes the bench
// lost named, NSD and Knot to "could not bind" several times a run, and
// in CI a Galera joiner's rsync daemon could not bind its SST port while
// other packages' tests ran. Each candidate is checked by binding that
// very port for TCP, without SO_REUSEADDR as the daemons do, and for UDP.
package freeport

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Picker hands out loopback ports free for both TCP and UDP, never the
// same one twice. The zero value is ready; it is safe for concurrent use.
type Picker struct {
	mu   sync.Mutex
	used map[int]bool
	rng  *rand.Rand
}

// Next returns a port that was free on 127.0.0.1 for TCP and UDP.
func (pp *Picker) Next() (int, error) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.used == nil {
		pp.used = map[int]bool{}
		pp.rng = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	}
	lo, hi := PickRange(EphemeralLow())
	for range 1000 {
		port := lo + pp.rng.IntN(hi-lo+1)
		if pp.used[port] || !TCPFree(port) || !UDPFree(port) {
			continue
		}
		pp.used[port] = true
		return port, nil
	}
	return 0, fmt.Errorf("freeport: no port in %d-%d free for tcp and udp", lo, hi)
}

// EphemeralLow is the first port of the kernel's ephemeral range (32768,
// Linux's default, when it cannot be read).
func EphemeralLow() int {
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

// PickRange is where ports are picked: the 12,000 ports below the
// ephemeral range starting at low (above 1024), or 20000-29999 when that
// range starts too low to leave room below it.
func PickRange(low int) (int, int) {
	if low-1 < 1024+1000 {
		return 20000, 29999
	}
	return max(1025, low-12000), low - 1
}

// TCPFree reports whether port can be bound for TCP on 127.0.0.1 the way
// a daemon that does not set SO_REUSEADDR binds it.
func TCPFree(port int) bool {
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

// UDPFree reports whether port can be bound for UDP on 127.0.0.1.
func UDPFree(port int) bool {
	c, err := net.ListenPacket("udp", loopback(port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func loopback(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}
