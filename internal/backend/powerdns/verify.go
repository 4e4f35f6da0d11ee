package powerdns

import (
	"context"
	"errors"
	"fmt"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// Verify reads the zone's rows back, rebuilds the zone and compares its
// canonical hash with what should be stored for the pushed hash. When the
// rows drifted from a zone of the last Apply (rows added, changed,
// disabled or removed behind dadns's back), it rewrites them as Apply
// does, logs it, and checks again. With a verify address, it then asks
// that PowerDNS server for the zone's SOA serial.
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
	if err == nil && got.Hash() == want && proj == nil {
		return nil
	}
	if ctx.Err() != nil || proj == nil || errors.Is(err, ErrSchema) {
		return verifyError(name, got, want, err)
	}
	if rerr := b.repair(ctx, *proj, err); rerr != nil {
		return fmt.Errorf("powerdns: verify %s: repair: %w", name, rerr)
	}
	same, err := b.sameRows(ctx, *proj)
	if err == nil && same {
		return nil
	}
	return verifyError(name, got, want, err)
}

func verifyError(name zone.Name, got *zone.Zone, want string, err error) error {
	if err != nil {
		return fmt.Errorf("powerdns: verify %s: %w", name, err)
	}
	if got == nil {
		return fmt.Errorf("powerdns: verify %s: %w (rows differ from what was written)", name, backend.ErrMismatch)
	}
	return fmt.Errorf("powerdns: verify %s: %w (rows give %.12s, want %.12s)", name, backend.ErrMismatch, got.Hash(), want)
}

// wanted returns the hash the rows should give for the pushed hash, and
// the zone to rewrite them from when it is one of the last Apply.
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

// repair rewrites the zone's rows from its projection.
func (b *Backend) repair(ctx context.Context, proj planned, cause error) error {
	foreign, del, ins, err := b.applyTx(ctx, []planned{proj})
	if err != nil {
		b.failed()
		return err
	}
	if account, ok := foreign[proj.name()]; ok {
		return fmt.Errorf("%w (account %q)", ErrForeign, account)
	}
	attrs := []any{"zone", proj.z.Name.String(), "deleted_rows", del, "inserted_rows", ins}
	if cause != nil {
		attrs = append(attrs, "cause", cause.Error())
	}
	b.log.Warn("powerdns rows drifted from the applied zone; repaired", attrs...)
	return nil
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
