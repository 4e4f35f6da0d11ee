package view

import (
	"context"
	"time"

	"github.com/dadns/dadns/internal/store"
)

// ZoneSummary is one zone in a list (GET /api/v1/zones, the zones page).
type ZoneSummary struct {
	Name      string    `json:"name"`
	Serial    uint32    `json:"serial"`
	Version   int64     `json:"version"`
	OwnerHost string    `json:"owner_host"`
	OwnerUser string    `json:"owner_user"`
	Updated   time.Time `json:"updated"`
	Failing   []string  `json:"failing,omitempty"` // backends failing this zone
}

// ZoneDetail is one zone with its state on every backend
// (GET /api/v1/zones/{name}, the zone page).
type ZoneDetail struct {
	ZoneSummary
	Hash      string        `json:"hash"`
	Created   time.Time     `json:"created"`
	Canonical string        `json:"canonical"`
	Original  string        `json:"original"`
	Backends  []ZoneBackend `json:"backends"`
}

// ZoneBackend is one backend's state of one zone.
type ZoneBackend struct {
	Backend        string    `json:"backend"`
	State          string    `json:"state"`
	DesiredVersion int64     `json:"desired_version"`
	AppliedVersion int64     `json:"applied_version"`
	AppliedHash    string    `json:"applied_hash,omitempty"`
	AppliedAt      time.Time `json:"applied_at,omitzero"`
	Attempts       int       `json:"attempts"`
	LastError      string    `json:"last_error,omitempty"`
	FailedAt       time.Time `json:"failed_at,omitzero"`
	NextAttempt    time.Time `json:"next_attempt,omitzero"`
}

// Summarize is the list entry of z.
func Summarize(z store.Zone) ZoneSummary {
	return ZoneSummary{Name: z.Name, Serial: z.Serial, Version: z.Version,
		OwnerHost: z.OwnerHost, OwnerUser: z.OwnerUser, Updated: z.Updated}
}

// Failing reports whether a backend state is a failure (retried or not).
func Failing(st store.BackendState) bool {
	return st.State == store.StateFailed || st.State == store.StatePermanent
}

// Zone returns the live zone name with its backend states; the store's
// ErrNotFound (wrapped) when it is not held.
func Zone(ctx context.Context, st store.Store, name string) (ZoneDetail, error) {
	z, err := st.Get(ctx, name)
	if err != nil {
		return ZoneDetail{}, err
	}
	states, err := st.BackendStates(ctx, z.Name)
	if err != nil {
		return ZoneDetail{}, err
	}
	d := ZoneDetail{ZoneSummary: Summarize(z), Hash: z.Hash, Created: z.Created,
		Canonical: z.Canonical, Original: z.Original, Backends: []ZoneBackend{}}
	for _, s := range states {
		if Failing(s) {
			d.Failing = append(d.Failing, s.Backend)
		}
		d.Backends = append(d.Backends, BackendState(s))
	}
	return d, nil
}

// BackendState is the read model of one stored backend state.
func BackendState(s store.BackendState) ZoneBackend {
	return ZoneBackend{
		Backend: s.Backend, State: string(s.State), DesiredVersion: s.DesiredVersion,
		AppliedVersion: s.AppliedVersion, AppliedHash: s.AppliedHash, AppliedAt: s.AppliedAt,
		Attempts: s.Attempts, LastError: s.LastError, FailedAt: s.FailedAt, NextAttempt: s.NextAttempt,
	}
}
