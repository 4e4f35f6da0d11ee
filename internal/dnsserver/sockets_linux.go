package dnsserver

import "syscall"

// soReusePort is SO_REUSEPORT on Linux (the syscall package lacks it).
const soReusePort = 0xf

// reusePort sets SO_REUSEPORT so several sockets can share one port.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// Path-MTU discovery is off for DNS over UDP (IP_PMTUDISC_OMIT and
// IPV6_PMTUDISC_OMIT, the Linux counterparts of IPV6_USE_MIN_MTU; named,
// NSD, Knot and PowerDNS set them too): answers, capped at MaxUDPSize
// (1232 bytes by default), go out unfragmented whatever ICMP "packet too
// big" messages claim, so a forged one cannot push them into fragments.
const (
	ipMTUDiscover   = 0xa  // IP_MTU_DISCOVER
	ipPMTUDiscOmit  = 0x5  // IP_PMTUDISC_OMIT
	ipv6MTUDiscover = 0x17 // IPV6_MTU_DISCOVER
	ipv6PMTUOmit    = 0x5  // IPV6_PMTUDISC_OMIT
)

// noPMTUD sets the options above, each where the socket's family has it
// (a dual-stack IPv6 socket takes both). Failures are ignored: the socket
// still works, with the kernel's default.
func noPMTUD(_, _ string, c syscall.RawConn) error {
	return c.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipMTUDiscover, ipPMTUDiscOmit)
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, ipv6MTUDiscover, ipv6PMTUOmit)
	})
}
