package powerdns

import (
	"context"
	"errors"
	"fmt"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// Verify reads the zone's rows back and compares them with what was
// written for the pushed hash: the rows of the last Apply as a multiset
// (auth and prio included), or else the canonical hash of the zone rebuilt
// from them. With a verify address, PowerDNS itself must then serve the
// pushed SOA serial. Verify only reads: rows changed behind dadns's back
// make it fail with ErrMismatch, and the dispatcher's next Apply of the
// zone rewrites them (a diff), saying so in the log.
func (b *Backend) Verify(ctx context.Context, name zone.Name, hash string) error {
	want, proj := b.wanted(name, hash)
	if err := b.verifyRows(ctx, name, want, proj); err != nil {
		return err
	}
	if b.opt.VerifyAddress == "" || proj == nil {
		return nil
	}
	return b.verifyServed(ctx, name, proj.z.Serial)
}

func (b *Backend) verifyRows(ctx context.Context, name zone.Name, want string, proj *planned) error {
	if proj != nil {
		same, err := b.sameRows(ctx, *proj)
		if err != nil {
			return fmt.Errorf("powerdns: verify %s: %w", name, err)
		}
		if same {
			return nil
		}
	}
	got, err := b.Zone(ctx, name)
	switch {
	case err != nil:
		return fmt.Errorf("powerdns: verify %s: %w", name, err)
	case proj != nil:
		return fmt.Errorf("powerdns: verify %s: %w (the rows differ from those written: changed behind dadns's back; the next apply rewrites them)",
			name, backend.ErrMismatch)
	case got.Hash() != want:
		return fmt.Errorf("powerdns: verify %s: %w (rows give %.12s, want %.12s)", name, backend.ErrMismatch, got.Hash(), want)
	}
	return nil
}

// wanted returns the hash the rows should give for the pushed hash, and
// the zone's planned rows when it is one of the last Apply.
func (b *Backend) wanted(name zone.Name, hash string) (string, *planned) {
	b.mu.Lock()
	defer b.mu.Unlock()
	want := hash
	if s, ok := b.signed[name]; ok && s.full == hash {
		want = s.stored
	}
	if p, ok := b.recent[name]; ok && p.z.Hash() == want {
		return want, &p
	}
	return want, nil
}

// sameRows reports whether the enabled rows are exactly the rows of proj,
// as a multiset (auth and prio included): then the zone rebuilt from them
// is proj, without the cost of parsing it again.
func (b *Backend) sameRows(ctx context.Context, proj planned) (bool, error) {
	have, err := b.zoneRows(ctx, proj.z.Name)
	if errors.Is(err, backend.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var d diff
	d.add(0, proj.rows, have)
	return d.empty(), nil
}
