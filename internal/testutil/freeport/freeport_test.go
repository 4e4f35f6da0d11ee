package freeport

import (
	"net"
	"testing"
	"time"
)

// TestPortsBelowEphemeralRange: picked ports are distinct, outside the
// kernel's ephemeral range and bindable for TCP (without SO_REUSEADDR)
// and UDP.
func TestPortsBelowEphemeralRange(t *testing.T) {
	var pp Picker
	low := EphemeralLow()
	lo, hi := PickRange(low)
	seen := map[int]bool{}
	for range 200 {
		p, err := pp.Next()
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("port %d picked twice", p)
		}
		seen[p] = true
		if p < lo || p > hi || p >= low {
			t.Fatalf("port %d outside %d-%d (ephemeral range from %d)", p, lo, hi, low)
		}
	}
	if lo, hi := PickRange(1024); lo != 20000 || hi != 29999 {
		t.Fatalf("PickRange(1024) = %d-%d", lo, hi)
	}
}

// TestTimeWaitPortNotFree: a port held by a closed client connection in
// TIME_WAIT (as every push leaves one) cannot be bound by a daemon, and
// TCPFree says so.
func TestTimeWaitPortNotFree(t *testing.T) {
	srv, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := srv.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.TCPAddr).Port
	var sc net.Conn
	select {
	case sc = <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("no accept")
	}
	c.Close() // the client closes first: its end goes to TIME_WAIT
	buf := make([]byte, 1)
	_ = sc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := sc.Read(buf); err == nil {
		t.Fatal("read after the client's close returned data")
	}
	sc.Close()
	time.Sleep(200 * time.Millisecond) // the client's end reaches TIME_WAIT
	if TCPFree(port) {
		t.Fatalf("port %d in TIME_WAIT reported free", port)
	}
}
