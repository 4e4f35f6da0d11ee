package slowproxy

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(t *testing.T, addr, line string) (string, time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(got, "\n"), time.Since(start)
}

func TestProxyForwardsAndDelays(t *testing.T) {
	p := Start(t, echoServer(t), 0)
	if got, _ := roundTrip(t, p.Addr(), "hello"); got != "hello" {
		t.Fatalf("echo through the proxy: %q", got)
	}
	// Each direction holds data back by the delay: a round trip takes at
	// least twice that (a lower bound, which sleeping guarantees).
	const d = 150 * time.Millisecond
	p.SetDelay(d)
	got, took := roundTrip(t, p.Addr(), strings.Repeat("x", 100000))
	if got != strings.Repeat("x", 100000) {
		t.Fatalf("large echo through the proxy corrupted: %d bytes", len(got))
	}
	if took < 2*d {
		t.Fatalf("round trip in %v with a %v delay each way", took, d)
	}
	p.SetDelay(time.Hour)
	if v := time.Duration(p.delay.Load()); v != MaxDelay {
		t.Fatalf("delay %v not clamped to %v", v, MaxDelay)
	}
}

func TestCloseCutsConnections(t *testing.T) {
	p := Start(t, echoServer(t), 0)
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "a\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection still open after Close")
	}
	if _, err := net.Dial("tcp", p.Addr()); err == nil {
		t.Fatal("proxy still accepts after Close")
	}
}
