package bind

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/dnsverify"
	"github.com/dadns/dadns/internal/zone"
)

// Verify asks named for the zone's SOA until it serves the serial of the
// content with the given hash (named loads zones in the background after
// rndc returns), and, when transfers are allowed, compares the hash of the
// transferred zone too. The waiting ends VerifyTimeout after the last
// activation, so a batch never waits longer than that in total.
func (b *Backend) Verify(ctx context.Context, name zone.Name, hash string) error {
	if err := checkName(name); err != nil {
		return err
	}
	want, err := b.expected(name, hash)
	if err != nil {
		return err
	}
	if err := b.waitSerial(ctx, name, want); err != nil {
		return b.explain(ctx, name, err)
	}
	if !b.opt.Transfer {
		return nil
	}
	z, err := b.transfer(ctx, name)
	if err != nil {
		return err
	}
	if z.Hash() != hash {
		return fmt.Errorf("bind: verify %s: %w (serves %.12s, applied %.12s)", name, backend.ErrMismatch, z.Hash(), hash)
	}
	return nil
}

// explain looks for named's reason when a zone was not served in time: a
// safe zone (see safe) reaches named unchecked, so if named refused its
// file anyway, the check run now on the installed file says why, and the
// failure is permanent like a refusal found before activation. Nothing
// is checked when named is not there or ctx ended.
func (b *Backend) explain(ctx context.Context, name zone.Name, err error) error {
	if ctx.Err() != nil || errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	e, ok := b.entry(name)
	if !ok {
		return err
	}
	bad, cerr := b.check.check(ctx, []staged{{Z: &zone.Zone{Name: name}, Tmp: e.file}})
	if cerr == nil && bad[name] != nil {
		return bad[name]
	}
	return err
}

// expected returns the serial of the content with hash, from what Apply
// wrote or, after a restart, from the zone file.
func (b *Backend) expected(name zone.Name, hash string) (uint32, error) {
	e, ok := b.entry(name)
	if !ok {
		return 0, fmt.Errorf("bind: verify %s: %w", name, backend.ErrNotFound)
	}
	if e.hash == hash {
		return e.serial, nil
	}
	z, err := readZone(name, e.file)
	if err != nil {
		return 0, fmt.Errorf("bind: verify %s: read zone file: %w", name, err)
	}
	if z.Hash() != hash {
		return 0, fmt.Errorf("bind: verify %s: %w (zone file holds %.12s, applied %.12s)", name, backend.ErrMismatch, z.Hash(), hash)
	}
	return z.Serial, nil
}

// verifier asks the daemon what it serves (internal/backend/dnsverify).
func (b *Backend) verifier() dnsverify.Server {
	return dnsverify.Server{Addr: b.opt.VerifyAddr, Label: "bind", Daemon: "named"}
}

// waitSerial polls the daemon until it answers the SOA with serial want,
// until the batch's settle deadline.
func (b *Backend) waitSerial(ctx context.Context, name zone.Name, want uint32) error {
	b.mu.RLock()
	deadline := b.settle
	b.mu.RUnlock()
	return b.poll.Wait(ctx, name, want, deadline)
}

// soaSerial asks the daemon for the zone's SOA serial.
func (b *Backend) soaSerial(ctx context.Context, name zone.Name) (uint32, error) {
	return b.verifier().SOASerial(ctx, name)
}

// transfer reads the zone from the daemon by AXFR. named loads the zones
// of a reconfig in the background, so until the batch's settle deadline a
// refused transfer (the zone still loading) is asked again.
func (b *Backend) transfer(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	b.mu.RLock()
	deadline := b.settle
	b.mu.RUnlock()
	for {
		z, err := b.verifier().Transfer(ctx, name)
		if err == nil || !time.Now().Before(deadline) {
			return z, err
		}
		t := time.NewTimer(25 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}
