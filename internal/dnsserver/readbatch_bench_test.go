package dnsserver

import (
	"net"
	"testing"

	"golang.org/x/net/ipv4"
)

// BenchmarkReadBatch measures reading batches as the UDP loop does (one
// op: a batch of udpBatch packets sent over loopback and read back),
// with golang.org/x/net's ReadBatch (xnet) and with the loop's own on
// Linux (mmsg, mmsg_linux.go). x/net's allocations (two per packet)
// are the *net.UDPAddr and its IP it makes for every message
// read; BenchmarkSourceAddrAlloc measures making those alone. The loop's
// own allocates nothing.
func BenchmarkReadBatch(b *testing.B) {
	for _, impl := range []string{"xnet", "mmsg"} {
		b.Run(impl, func(b *testing.B) {
			rc, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer rc.Close()
			sc, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer sc.Close()
			var r batchConn = ipv4.NewPacketConn(rc)
			if impl == "mmsg" {
				var ok bool
				if r, ok = platformBatchConn(rc); !ok {
					b.Skip("no batches of our own on this system")
				}
			}
			s := ipv4.NewPacketConn(sc)
			if err := rc.(*net.UDPConn).SetReadBuffer(1 << 20); err != nil {
				b.Fatal(err)
			}
			pkt := make([]byte, 40)
			tx, rx := make([]ipv4.Message, udpBatch), make([]ipv4.Message, udpBatch)
			for i := range tx {
				tx[i] = ipv4.Message{Buffers: [][]byte{pkt}, Addr: rc.LocalAddr()}
				rx[i].Buffers = [][]byte{make([]byte, udpRead)}
			}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer() // the sends are not measured, nor counted
				if _, err := s.WriteBatch(tx, 0); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				for got := 0; got < udpBatch; {
					n, err := r.ReadBatch(rx[got:], 0)
					if err != nil {
						b.Fatal(err)
					}
					got += n
				}
			}
		})
	}
}

var sinkAddr net.Addr

// BenchmarkSourceAddrAlloc makes what x/net's ReadBatch makes for each
// packet read: a *net.UDPAddr and a 4-byte IP.
func BenchmarkSourceAddrAlloc(b *testing.B) {
	src := []byte{127, 0, 0, 1}
	b.ReportAllocs()
	for b.Loop() {
		ip := make(net.IP, net.IPv4len)
		copy(ip, src)
		sinkAddr = &net.UDPAddr{IP: ip, Port: 5353}
	}
}
