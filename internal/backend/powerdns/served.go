package powerdns

import (
	"context"
	"fmt"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// verifyServed asks the PowerDNS server at VerifyAddress for the zone's
// SOA until it answers authoritatively with serial, for at most
// VerifyTimeout: a replica may lag and PowerDNS may answer from its
// caches for their TTLs (cache-ttl, negquery-cache-ttl).
func (b *Backend) verifyServed(ctx context.Context, name zone.Name, serial uint32) error {
	ctx, cancel := context.WithTimeout(ctx, b.opt.VerifyTimeout)
	defer cancel()
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	last := "no answer"
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		m := new(dns.Msg)
		m.SetQuestion(name.FQDN(), dns.TypeSOA)
		r, _, err := c.ExchangeContext(ctx, m, b.opt.VerifyAddress)
		switch {
		case err != nil:
			last = err.Error()
		case r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) == 0:
			last = fmt.Sprintf("rcode %s, aa %v, %d answers", dns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer))
		default:
			soa, ok := r.Answer[0].(*dns.SOA)
			if ok && soa.Serial == serial {
				return nil
			}
			if ok {
				last = fmt.Sprintf("serial %d", soa.Serial)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("powerdns: verify %s at %s: %w (want serial %d, got %s within %v)",
				name, b.opt.VerifyAddress, backend.ErrMismatch, serial, last, b.opt.VerifyTimeout)
		case <-time.After(wait):
		}
	}
}
