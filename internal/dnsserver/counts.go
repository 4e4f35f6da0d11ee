package dnsserver

import (
	"strconv"
	"sync/atomic"

	"github.com/miekg/dns"
)

// rcodeCounts counts answers sent by their (4-bit header) rcode.
type rcodeCounts [16]atomic.Uint64

// count reads the rcode of a packed reply and counts it.
func (c *rcodeCounts) count(reply []byte) {
	if len(reply) >= 4 {
		c[reply[3]&0x0f].Add(1)
	}
}

// Answers returns how many replies were sent, by rcode mnemonic
// ("NOERROR", "NXDOMAIN", ...), since the server was created.
func (s *Server) Answers() map[string]uint64 {
	out := make(map[string]uint64)
	for i := range s.rcodes {
		if n := s.rcodes[i].Load(); n > 0 {
			name, ok := dns.RcodeToString[i]
			if !ok {
				name = "RCODE" + strconv.Itoa(i)
			}
			out[name] = n
		}
	}
	return out
}
