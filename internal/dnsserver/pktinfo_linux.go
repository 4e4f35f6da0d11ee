package dnsserver

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On a wildcard address the kernel hands each packet's destination in an
// IP_PKTINFO (struct in_pktinfo) or IPV6_PKTINFO (struct in6_pktinfo)
// control message. The reply carries the same kind of message back, so
// it leaves from the address the question was sent to: a host with
// several addresses then answers each from the right one, as resolvers
// require.

// oobSize holds one pktinfo control message of either family.
var oobSize = unix.CmsgSpace(unix.SizeofInet6Pktinfo)

// replySource fills buf with the control message that makes a reply leave
// from the destination recorded in rx (the first nn bytes of a buffer of
// oobSize), and returns it; nil (the kernel picks the source) when rx has
// no pktinfo.
func replySource(buf, rx []byte, nn int) []byte {
	hdr := unix.CmsgLen(0)
	if nn < hdr || len(rx) < oobSize || len(buf) < oobSize {
		return nil
	}
	h := (*unix.Cmsghdr)(unsafe.Pointer(&rx[0]))
	level, typ := h.Level, h.Type
	switch {
	case level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO && nn >= hdr+unix.SizeofInet4Pktinfo:
		n := copy(buf, rx[:unix.CmsgSpace(unix.SizeofInet4Pktinfo)])
		// in_pktinfo: ifindex, spec_dst, addr. The source is spec_dst; the
		// interface is left to the routing table (index 0), so replies
		// follow the usual route even when queries arrive elsewhere.
		d := buf[hdr:]
		binary.NativeEndian.PutUint32(d[0:], 0)
		copy(d[4:8], d[8:12])
		return buf[:n]
	case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_PKTINFO && nn >= hdr+unix.SizeofInet6Pktinfo:
		// in6_pktinfo: addr, ifindex; both are kept (a link-local
		// destination needs its interface).
		n := copy(buf, rx[:unix.CmsgSpace(unix.SizeofInet6Pktinfo)])
		return buf[:n]
	}
	return nil
}
