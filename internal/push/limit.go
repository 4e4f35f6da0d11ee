package push

import (
	"context"
	"fmt"
	"github.com/dadns/dadns/internal/zone"
	"sync"
	"time"
)

// liveCount caches the number of live zones: counting them is a scan, too
// slow to repeat for every new zone of a burst. Far from the limit the
// cached figure (kept up to date by new saves, refreshed every few seconds)
// decides; near it, the store is counted exactly.
type liveCount struct {
	mu sync.Mutex
	n  int
	at time.Time
}

// countTTL bounds how stale the cached count may be.
const countTTL = 5 * time.Second

// checkZoneLimit refuses a new zone when the node holds MaxZones already.
func (s *Service) checkZoneLimit(ctx context.Context) error {
	max := s.opt.MaxZones
	margin := max/100 + 10
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	if time.Since(s.live.at) > countTTL || s.live.n+margin >= max {
		n, err := s.opt.Store.CountLive(ctx)
		if err != nil {
			return err
		}
		s.live.n, s.live.at = n, time.Now()
	}
	if s.live.n >= max {
		return fmt.Errorf("%w: this node holds %d zones (limits.max_zones)", ErrZoneLimit, s.live.n)
	}
	s.live.n++ // this save adds one; deletes are caught by the refresh
	return nil
}

// Limits returns the bounds a pushed zone is parsed with.
func (s *Service) Limits() zone.Limits { return s.opt.ZoneLimits }
