package powerdns

import (
	"fmt"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// AuditZone refuses, permanently, a zone with a record PowerDNS could not
// serve as pushed: a TTL over 2^31-1, a row that does not fit the columns,
// or one that would read back as a different record. DNSSEC records are
// not refused: they are left out (see Stored).
func (b *Backend) AuditZone(z *zone.Zone) error {
	lim := b.limits()
	p, err := planZone(z, lim)
	if err != nil {
		return backend.Permanent(fmt.Errorf("powerdns: audit %s: %w", z.Name, err))
	}
	b.mu.Lock()
	if len(b.audit) < maxAudited {
		b.audit[z.Hash()] = p
	}
	b.mu.Unlock()
	return nil
}

// maxAudited bounds the audited zones kept for the next Apply (the
// dispatcher audits one batch, then applies it).
const maxAudited = 2000
