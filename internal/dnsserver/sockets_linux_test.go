package dnsserver

import (
	"net"
	"syscall"
	"testing"
)

func TestUDPSocketsNoPMTUD(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "0.0.0.0:0", "[::1]:0"} {
		pcs, err := listenUDP(addr, 2, false)
		if err != nil {
			if addr[0] == '[' {
				t.Logf("%s: %v (no IPv6)", addr, err)
				continue
			}
			t.Fatal(err)
		}
		for _, pc := range pcs {
			raw, err := pc.(*net.UDPConn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			v6 := pc.LocalAddr().(*net.UDPAddr).IP.To4() == nil
			_ = raw.Control(func(fd uintptr) {
				level, opt := syscall.IPPROTO_IP, ipMTUDiscover
				if v6 {
					level, opt = syscall.IPPROTO_IPV6, ipv6MTUDiscover
				}
				v, err := syscall.GetsockoptInt(int(fd), level, opt)
				if err != nil || v != ipPMTUDiscOmit {
					t.Errorf("%s: MTU discover = %d (%v), want OMIT (%d)", addr, v, err, ipPMTUDiscOmit)
				}
			})
		}
		closeAll(pcs)
	}
}
