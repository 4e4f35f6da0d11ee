package mysql

import (
	"context"
	"sync/atomic"
	"time"
)

// Claims, leases and heartbeats compare a time one node wrote with
// another node's "now". Without an injected clock (Options.Now) the store
// therefore tells time by the database server's clock: the offset between
// this machine's clock and the server's is measured at Open and again at
// every heartbeat, and now() is the local clock plus that offset (taken as
// zero below clockTrust). A dadns
// machine whose clock is wrong then neither takes live claims early nor
// holds dead ones late; only the database servers' clocks must agree.
type dbClock struct {
	local  func() time.Time
	offset atomic.Int64 // server minus local, in nanoseconds
}

// now is the server's time as estimated from the local clock.
func (c *dbClock) now() time.Time {
	return c.local().Add(time.Duration(c.offset.Load()))
}

// sync measures the offset with one query, taking the middle of its
// round trip as the moment the server read its clock.
func (c *dbClock) sync(ctx context.Context, s *Store) error {
	t0 := c.local()
	var us int64
	if err := s.db.QueryRowContext(ctx, "SELECT CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)").Scan(&us); err != nil {
		return err
	}
	t1 := c.local()
	mid := t0.Add(t1.Sub(t0) / 2)
	off := time.UnixMicro(us).Sub(mid)
	if off < clockTrust && off > -clockTrust {
		// A clock this close is right (NTP): the measurement's own error
		// (up to half the round trip, large on a loaded machine) would only
		// add noise between nodes that agree.
		off = 0
	}
	c.offset.Store(int64(off))
	return nil
}

// clockTrust is how far the local clock may be from the server's and
// still be used as it is.
const clockTrust = time.Second

// ClockOffset is how far the database server's clock is ahead of this
// machine's (negative: behind), as last measured; zero with an injected
// clock.
func (s *Store) ClockOffset() time.Duration {
	if s.clock == nil {
		return 0
	}
	return time.Duration(s.clock.offset.Load())
}

// syncClock re-measures the offset when the store tells time by the
// server's clock.
func (s *Store) syncClock(ctx context.Context) error {
	if s.clock == nil {
		return nil
	}
	return s.clock.sync(ctx, s)
}

// Now is the store's current time: the server's clock (or the injected
// one). Compare heartbeats and claims with it, not with time.Now.
func (s *Store) Now() time.Time { return s.now() }
