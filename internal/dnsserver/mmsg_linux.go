package dnsserver

import (
	"errors"
	"net"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// mmsgConn is the UDP loop's recvmmsg/sendmmsg on Linux, in place of
// golang.org/x/net's ReadBatch and WriteBatch. Two things differ:
//
//   - The system calls are raw (unix.RawSyscall6: no entersyscall). The
//     socket is non-blocking, so recvmmsg returns at once (EAGAIN parks
//     the loop in the netpoller, as before) and sendmmsg only does the
//     kernel's work on the batch. With x/net's plain Syscall, a sendmmsg
//     of a full batch on loopback (which also delivers each answer to the
//     client's socket) often lasted past sysmon's 20 µs tick: the runtime
//     then took the loop's P away, handed it to another thread, and on
//     return the loop had to find a P again, parking its thread: under
//     dnsperf load the profile showed sysmon and the scheduler (usleep,
//     futex, context switches) at about a quarter of the process's CPU.
//     A raw call keeps its P; it is short and bounded (a batch of at most
//     udpBatch packets), so the rest of the runtime waits at most that
//     long for it. MSG_DONTWAIT keeps the calls from sleeping even on a
//     socket someone set blocking.
//   - Nothing is allocated per packet: the headers, I/O vectors and
//     socket addresses are the conn's own, made once, and each source
//     address read is kept in one *net.UDPAddr per slot, rewritten by the
//     next read (x/net allocates a *net.UDPAddr and its IP for every
//     packet). A reply whose Addr is one of those is sent to the raw
//     address read, scope included.
//
// The net.Addr values it returns are only valid until the next
// ReadBatch; the loop uses them within the batch.
type mmsgConn struct {
	rc  syscall.RawConn
	six bool // an AF_INET6 socket (dual-stack on a Go wildcard listener)

	rh    []unix.Mmsghdr
	riov  []unix.Iovec
	rname []unix.RawSockaddrInet6 // room for either family
	addrs []net.UDPAddr
	ips   [][16]byte
	zone  struct { // the last scope id turned into a zone name
		id   uint32
		name string
	}

	wh    []unix.Mmsghdr
	wiov  []unix.Iovec
	wname []unix.RawSockaddrInet6

	// The arguments and results of the calls below, kept here so the
	// callbacks (method values made once) need no closure per call.
	n, flags int
	got      int
	errno    syscall.Errno
	readFn   func(fd uintptr) bool
	writeFn  func(fd uintptr) bool
}

// newMmsgConn wraps pc for batches of up to size packets; ok is false
// when pc is not a UDP socket it can drive (the caller uses x/net).
func newMmsgConn(pc net.PacketConn, size int) (*mmsgConn, bool) {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return nil, false
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, false
	}
	var family int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		var sa unix.Sockaddr
		sa, serr = unix.Getsockname(int(fd))
		switch sa.(type) {
		case *unix.SockaddrInet4:
			family = unix.AF_INET
		case *unix.SockaddrInet6:
			family = unix.AF_INET6
		}
	}); err != nil || serr != nil || family == 0 {
		return nil, false
	}
	c := &mmsgConn{rc: rc, six: family == unix.AF_INET6,
		rh: make([]unix.Mmsghdr, size), riov: make([]unix.Iovec, size),
		rname: make([]unix.RawSockaddrInet6, size), addrs: make([]net.UDPAddr, size), ips: make([][16]byte, size),
		wh: make([]unix.Mmsghdr, size), wiov: make([]unix.Iovec, size), wname: make([]unix.RawSockaddrInet6, size)}
	for i := range size {
		c.rh[i].Hdr.Iov, c.rh[i].Hdr.Iovlen = &c.riov[i], 1
		c.wh[i].Hdr.Iov, c.wh[i].Hdr.Iovlen = &c.wiov[i], 1
	}
	c.readFn, c.writeFn = c.read, c.write
	return c, true
}

// ReadBatch reads up to len(ms) packets (at most the conn's batch size),
// waiting in the netpoller until there is at least one. Each message
// gives one Buffers[0] to read into and, if it has one, an OOB buffer for
// control messages.
func (c *mmsgConn) ReadBatch(ms []ipv4.Message, flags int) (int, error) {
	n := min(len(ms), len(c.rh))
	if n == 0 {
		return 0, nil
	}
	for i := range n {
		m, h := &ms[i], &c.rh[i].Hdr
		setIov(&c.riov[i], m.Buffers[0])
		h.Name, h.Namelen = (*byte)(unsafe.Pointer(&c.rname[i])), unix.SizeofSockaddrInet6
		h.Control, h.Controllen = nil, 0
		if len(m.OOB) > 0 {
			h.Control, h.Controllen = &m.OOB[0], uint64(len(m.OOB))
		}
		h.Flags = 0
	}
	c.n, c.flags = n, flags|unix.MSG_DONTWAIT
	if err := c.rc.Read(c.readFn); err != nil {
		return 0, err
	}
	if c.errno != 0 {
		return 0, osError("recvmmsg", c.errno)
	}
	for i := range c.got {
		m, h := &ms[i], &c.rh[i]
		m.N, m.NN, m.Flags = int(h.Len), int(h.Hdr.Controllen), int(h.Hdr.Flags)
		m.Addr = c.source(i)
	}
	return c.got, nil
}

func (c *mmsgConn) read(fd uintptr) bool { return c.mmsg(unix.SYS_RECVMMSG, fd, c.rh) }

// mmsg makes one recvmmsg or sendmmsg call (trap) over the first c.n
// headers of hs, again when a signal interrupted it; false when the
// socket would block (the poller then waits until it is ready).
func (c *mmsgConn) mmsg(trap, fd uintptr, hs []unix.Mmsghdr) bool {
	for {
		r, _, e := unix.RawSyscall6(trap, fd, uintptr(unsafe.Pointer(&hs[0])), uintptr(c.n), uintptr(c.flags), 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		c.got, c.errno = int(r), e
		return true
	}
}

// source returns the address packet i came from, in the slot's own
// *net.UDPAddr.
func (c *mmsgConn) source(i int) *net.UDPAddr {
	a, sa := &c.addrs[i], &c.rname[i]
	a.Port = int(portOf(sa.Port))
	a.Zone = ""
	if sa.Family == unix.AF_INET {
		in4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		a.IP = c.ips[i][:4]
		copy(a.IP, in4.Addr[:])
		return a
	}
	a.IP = c.ips[i][:16]
	copy(a.IP, sa.Addr[:])
	if sa.Scope_id != 0 {
		a.Zone = c.zoneName(sa.Scope_id)
	}
	return a
}

// portOf turns a port in network byte order, as read from memory, into
// its value.
func portOf(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// zoneName names an interface index, as net does for link-local
// addresses; the last one is kept (such clients are few).
func (c *mmsgConn) zoneName(id uint32) string {
	if c.zone.id == id && c.zone.name != "" {
		return c.zone.name
	}
	name := strconv.FormatUint(uint64(id), 10)
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		name = ifi.Name
	}
	c.zone.id, c.zone.name = id, name
	return name
}

// WriteBatch sends up to len(ms) packets and returns how many went out.
// A message's Addr that ReadBatch returned is sent to as read (the raw
// address); any other *net.UDPAddr is encoded for the socket's family.
func (c *mmsgConn) WriteBatch(ms []ipv4.Message, flags int) (int, error) {
	n := min(len(ms), len(c.wh))
	if n == 0 {
		return 0, nil
	}
	for i := range n {
		m, h := &ms[i], &c.wh[i].Hdr
		setIov(&c.wiov[i], m.Buffers[0])
		name, namelen, err := c.destination(m.Addr, i)
		if err != nil {
			if i == 0 {
				return 0, err
			}
			n = i // send those before; the caller retries from here
			break
		}
		h.Name, h.Namelen = name, namelen
		h.Control, h.Controllen = nil, 0
		if len(m.OOB) > 0 {
			h.Control, h.Controllen = &m.OOB[0], uint64(len(m.OOB))
		}
		h.Flags = 0
	}
	c.n, c.flags = n, flags|unix.MSG_DONTWAIT
	if err := c.rc.Write(c.writeFn); err != nil {
		return 0, err
	}
	if c.errno != 0 {
		return 0, osError("sendmmsg", c.errno)
	}
	return c.got, nil
}

func (c *mmsgConn) write(fd uintptr) bool { return c.mmsg(unix.SYS_SENDMMSG, fd, c.wh) }

// destination is the raw socket address for a reply to a: the one read
// when a is a source ReadBatch returned, else a encoded in slot i.
func (c *mmsgConn) destination(a net.Addr, i int) (*byte, uint32, error) {
	ua, ok := a.(*net.UDPAddr)
	if !ok || ua == nil {
		return nil, 0, errNotUDPAddr
	}
	if j := c.slotOf(ua); j >= 0 {
		namelen := uint32(unix.SizeofSockaddrInet6)
		if c.rname[j].Family == unix.AF_INET {
			namelen = unix.SizeofSockaddrInet4
		}
		return (*byte)(unsafe.Pointer(&c.rname[j])), namelen, nil
	}
	sa := &c.wname[i]
	*sa = unix.RawSockaddrInet6{}
	if ip4 := ua.IP.To4(); ip4 != nil && !c.six {
		in4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		in4.Family, in4.Port = unix.AF_INET, portOf(uint16(ua.Port))
		copy(in4.Addr[:], ip4)
		return (*byte)(unsafe.Pointer(sa)), unix.SizeofSockaddrInet4, nil
	}
	ip16 := ua.IP.To16()
	if ip16 == nil || !c.six {
		return nil, 0, errNotUDPAddr
	}
	sa.Family, sa.Port = unix.AF_INET6, portOf(uint16(ua.Port))
	copy(sa.Addr[:], ip16)
	if ua.Zone != "" {
		if ifi, err := net.InterfaceByName(ua.Zone); err == nil {
			sa.Scope_id = uint32(ifi.Index)
		} else if id, err := strconv.ParseUint(ua.Zone, 10, 32); err == nil {
			sa.Scope_id = uint32(id)
		}
	}
	return (*byte)(unsafe.Pointer(sa)), unix.SizeofSockaddrInet6, nil
}

// slotOf returns the read slot whose address a is, or -1.
func (c *mmsgConn) slotOf(a *net.UDPAddr) int {
	if len(c.addrs) == 0 {
		return -1
	}
	base := uintptr(unsafe.Pointer(&c.addrs[0]))
	p := uintptr(unsafe.Pointer(a))
	if p < base {
		return -1
	}
	j := (p - base) / unsafe.Sizeof(net.UDPAddr{})
	if j >= uintptr(len(c.addrs)) || &c.addrs[j] != a {
		return -1
	}
	return int(j)
}

var errNotUDPAddr = errors.New("dnsserver: reply address is not a UDP address of the socket's family")

// setIov points v at b (an empty b sends or reads nothing).
func setIov(v *unix.Iovec, b []byte) {
	v.Base = nil
	if cap(b) > 0 {
		v.Base = unsafe.SliceData(b)
	}
	v.SetLen(len(b))
}

func osError(call string, e syscall.Errno) error {
	return &net.OpError{Op: call, Net: "udp", Err: e}
}

// platformBatchConn is the loop's batch conn on Linux.
func platformBatchConn(pc net.PacketConn) (batchConn, bool) {
	c, ok := newMmsgConn(pc, udpBatch)
	if !ok {
		return nil, false
	}
	return c, true
}
