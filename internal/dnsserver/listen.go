package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

// Listen serves DNS on addr over UDP and TCP (the same port; "127.0.0.1:0"
// picks a free one). It returns once both are serving, and they stop when
// ctx ends or Shutdown is called.
func (s *Server) Listen(ctx context.Context, addr string) (udp, tcp net.Addr, err error) {
	k, err := s.Bind(addr)
	if err != nil {
		return nil, nil, err
	}
	if err := s.Serve(ctx, k); err != nil {
		return nil, nil, err
	}
	return k.UDPAddr(), k.TCPAddr(), nil
}

// Sockets are the UDP sockets and TCP listener of one address, bound but
// not answered yet: until Serve, queries wait in the kernel (the UDP
// receive buffers, the TCP accept backlog) instead of being refused, so a
// server can bind its port early and answer only once its zones are in.
type Sockets struct {
	pcs []net.PacketConn
	l   net.Listener
	// wildcard: bound to 0.0.0.0 or [::] (v6), so Serve adds address
	// sockets (addrsockets.go).
	wildcard, v6 bool
}

// UDPAddr returns the address the UDP sockets are bound to.
func (k *Sockets) UDPAddr() net.Addr { return k.pcs[0].LocalAddr() }

// TCPAddr returns the address the TCP listener is bound to.
func (k *Sockets) TCPAddr() net.Addr { return k.l.Addr() }

// Close releases sockets that will not be served.
func (k *Sockets) Close() error {
	closeAll(k.pcs)
	return k.l.Close()
}

// Bind opens the UDP and TCP sockets of addr without answering on them.
func (s *Server) Bind(addr string) (*Sockets, error) {
	pcs, l, err := s.bind(addr)
	if err != nil {
		return nil, fmt.Errorf("dnsserver: listen %s: %w", addr, err)
	}
	wildcard, v6 := wildcardHost(addr)
	return &Sockets{pcs: pcs, l: l, wildcard: wildcard, v6: v6}, nil
}

// wildcardHost reports whether addr's host is a wildcard address, and
// whether it is the IPv6 one ("" counts as [::], as in package net).
func wildcardHost(addr string) (wildcard, v6 bool) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, false
	}
	if host == "" {
		return true, true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsUnspecified() {
		return false, false
	}
	return true, ip.Is6()
}

// Serve answers on sockets from Bind. It returns once they are all
// serving; they stop when ctx ends or Shutdown is called. On error the
// sockets are closed.
func (s *Server) Serve(ctx context.Context, k *Sockets) error {
	secrets := s.xfr.tsigSecrets()
	tl := newLimitListener(k.l, s.opt.TCPMaxConns, s.opt.TCPMaxConnsPerPrefix, s.tcpWriteTimeout())
	tl.lim.busyIdle = s.opt.TCPBusyIdleTimeout
	idle := s.opt.TCPIdleTimeout
	servers := []*dns.Server{{Listener: tl, TsigSecret: secrets, ReadTimeout: s.opt.TCPReadTimeout,
		IdleTimeout: func() time.Duration { return idle }, MaxTCPQueries: s.opt.TCPMaxQueries}}
	loops, err := s.startUDPLoops(k.pcs, k.UDPAddr().(*net.UDPAddr).IP.IsUnspecified())
	if err != nil {
		_ = k.Close()
		return fmt.Errorf("dnsserver: serve %s: %w", k.UDPAddr(), err)
	}
	if k.wildcard && !s.opt.NoAddressSockets {
		loops.addrs = s.startAddrSockets(k.UDPAddr().(*net.UDPAddr).Port, k.v6)
	}
	if err := s.start(servers, loops); err != nil {
		_ = k.Close()
		return fmt.Errorf("dnsserver: serve %s: %w", k.UDPAddr(), err)
	}
	s.notifyCatalog()
	go func() {
		<-ctx.Done()
		_ = s.stop(context.WithoutCancel(ctx), servers, loops)
	}()
	return nil
}

// bind opens the UDP sockets and the TCP listener on one port. When the
// port is 0, the UDP port picked by the system is reused for TCP, and the
// pair is retried if that TCP port happens to be taken.
func (s *Server) bind(addr string) ([]net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	for range 8 {
		wildcard, _ := wildcardHost(addr)
		pcs, err := listenUDP(addr, s.opt.UDPSockets, wildcard && !s.opt.NoAddressSockets)
		if err != nil {
			return nil, nil, err
		}
		p := strconv.Itoa(pcs[0].LocalAddr().(*net.UDPAddr).Port)
		l, err := listenTCP(net.JoinHostPort(host, p), s.opt.UDPSockets > 1)
		if err == nil {
			return pcs, l, nil
		}
		closeAll(pcs)
		if port != "0" {
			return nil, nil, err
		}
		errs = append(errs, err)
	}
	return nil, nil, errors.Join(errs...)
}

func closeAll(pcs []net.PacketConn) {
	for _, pc := range pcs {
		_ = pc.Close()
	}
}

// listener is what one Listen call started.
type listener struct {
	servers []*dns.Server
	loops   *udpLoops
}

// start runs the servers and waits until each one is serving.
func (s *Server) start(servers []*dns.Server, loops *udpLoops) error {
	started := make(chan struct{}, len(servers))
	failed := make(chan error, len(servers))
	for _, srv := range servers {
		srv.Handler = s
		srv.MsgAcceptFunc = accept
		srv.NotifyStartedFunc = func() { started <- struct{}{} }
		go func() {
			if err := srv.ActivateAndServe(); err != nil {
				failed <- err
			}
		}()
	}
	for range servers {
		select {
		case <-started:
		case err := <-failed:
			_ = s.stop(context.Background(), servers, loops)
			return err
		}
	}
	s.lmu.Lock()
	s.listeners = append(s.listeners, listener{servers: servers, loops: loops})
	s.lmu.Unlock()
	return nil
}

// Shutdown stops every listener started by Listen, waiting for queries in
// flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.lmu.Lock()
	ls := s.listeners
	s.listeners = nil
	s.lmu.Unlock()
	var errs []error
	for _, l := range ls {
		errs = append(errs, s.stop(ctx, l.servers, l.loops))
	}
	return errors.Join(errs...)
}

// stop shuts servers and loops down; stopping twice is harmless.
func (s *Server) stop(ctx context.Context, servers []*dns.Server, loops *udpLoops) error {
	var errs []error
	if loops != nil {
		loops.stop()
	}
	for _, srv := range servers {
		if err := srv.ShutdownContext(ctx); err != nil && !isNotStarted(err) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dnsserver: shutdown: %w", err)
	}
	return nil
}

func isNotStarted(err error) bool {
	return err != nil && err.Error() == "dns: server not started"
}

// accept drops responses and passes every query on: ServeDNS itself
// answers NOTIMP and FORMERR with the details BIND gives.
func accept(dh dns.Header) dns.MsgAcceptAction {
	const qr = 1 << 15
	if dh.Bits&qr != 0 {
		return dns.MsgIgnore
	}
	if dh.Qdcount > 1 || dh.Ancount > 0 || dh.Nscount > 1 || dh.Arcount > 2 {
		return dns.MsgReject
	}
	return dns.MsgAccept
}

// tcpWriteTimeout bounds one write to a TCP client: one that does not
// read for that long is cut off rather than holding a goroutine and its
// buffers (a transfer's own timeout may be shorter).
func (s *Server) tcpWriteTimeout() time.Duration {
	d := s.opt.TCPWriteTimeout
	if s.xfr != nil && s.xfr.opt.Timeout < d {
		d = s.xfr.opt.Timeout
	}
	return d
}
