//go:build linux

package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// TestHTTPListenerWithoutKeepAlive: the API's listener serves, and the
// connections it accepts have no TCP keep-alive (the server's timeouts end
// silent ones) but keep TCP_NODELAY.
func TestHTTPListenerWithoutKeepAlive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ln, err := listenHTTP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	type opts struct{ keepAlive, noDelay int }
	got := make(chan opts, 1)
	hs := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "ok")
		}),
		ConnState: func(c net.Conn, st http.ConnState) {
			if st != http.StateNew {
				return
			}
			raw, err := c.(*net.TCPConn).SyscallConn()
			if err != nil {
				t.Error(err)
				return
			}
			var o opts
			var serr error
			_ = raw.Control(func(fd uintptr) {
				if o.keepAlive, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE); serr != nil {
					return
				}
				o.noDelay, serr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
			})
			if serr != nil {
				t.Error(serr)
			}
			got <- o
		},
	}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" {
		t.Fatalf("reply %q", body)
	}
	select {
	case o := <-got:
		if o.keepAlive != 0 || o.noDelay == 0 {
			t.Fatalf("accepted connection: SO_KEEPALIVE %d, TCP_NODELAY %d; want 0 and set", o.keepAlive, o.noDelay)
		}
	case <-ctx.Done():
		t.Fatal("no connection state seen")
	}
}
