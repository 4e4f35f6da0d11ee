// Package view builds the read models the admin API and the operator UI
// show: the status of the node and its backend instances, and one zone
// with its state on every backend. Both read them from here, so the JSON
// and the pages never disagree.
package view

import (
	"context"
	"time"

	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/store"
)

// Source is what the read models are built from.
type Source struct {
	Store store.Store
	// Workers reports each backend worker (nil: none).
	Workers func() []dispatch.Status
	// Reconciler reports the last reconciliation pass (nil: none).
	Reconciler func() any
	// Secondaries reports who asked the builtin for transfers (nil: none).
	Secondaries func() any
	// Cluster reports the nodes sharing the store (nil: one node).
	Cluster func(context.Context) (any, error)
	// Traffic reports the builtin's per-zone answer counts, the top
	// zones (0: the default number) per instance (nil: none counted).
	Traffic func(top int) any
	Version string
}

// Status is GET /status: the Python directdnsonly's shape (status,
// queues, workers, reconciler, peer_sync, zones) so its users' monitoring
// keeps working, plus a section per backend instance.
type Status struct {
	Status     string             `json:"status"` // ok, degraded or error
	Version    string             `json:"version"`
	Queues     Queues             `json:"queues"`
	Workers    Workers            `json:"workers"`
	Reconciler any                `json:"reconciler"`
	PeerSync   map[string]any     `json:"peer_sync"`
	Zones      ZoneCount          `json:"zones"`
	Backends   map[string]Backend `json:"backends"`
	// Secondaries lists who asked the builtin for transfers (when
	// transfers are configured).
	Secondaries any `json:"secondaries,omitempty"`
	// Cluster lists the dadns nodes sharing the store (a shared store only).
	Cluster any `json:"cluster,omitempty"`
	// Traffic is the builtin instances' per-zone answer counts (top
	// zones by answers and by NXDOMAIN), when counted.
	Traffic any `json:"traffic,omitempty"`
}

// Queues sums the work not done yet over the backends.
type Queues struct {
	Save        int `json:"save"`         // zone saves not yet applied, summed over backends
	Delete      int `json:"delete"`       // zone deletes not yet applied, summed over backends
	Retry       int `json:"retry"`        // (zone, backend) pairs waiting for a retry
	DeadLetters int `json:"dead_letters"` // permanent failures, waiting for a new push
}

// Workers keeps the Python names: each is true when every backend worker
// loop is alive (dadns has one loop per backend doing all three).
type Workers struct {
	Save       bool `json:"save"`
	Delete     bool `json:"delete"`
	RetryDrain bool `json:"retry_drain"`
}

// ZoneCount counts the live zones.
type ZoneCount struct {
	Total int `json:"total"`
}

// Backend is one backend instance's progress.
type Backend struct {
	Alive                   bool      `json:"alive"`
	Down                    bool      `json:"down,omitempty"` // it does not answer its probe; nothing is applied
	DownSince               time.Time `json:"down_since,omitzero"`
	Applied                 int       `json:"applied"`
	Behind                  int       `json:"behind"`
	Failing                 int       `json:"failing"`
	Permanent               int       `json:"permanent"`
	OldestPendingAgeSeconds float64   `json:"oldest_pending_age_seconds"`
	LastApply               time.Time `json:"last_apply,omitzero"`
	LastError               string    `json:"last_error,omitempty"`
	LastErrorZone           string    `json:"last_error_zone,omitempty"`
	LastPass                time.Time `json:"last_pass,omitzero"`
	PassError               string    `json:"pass_error,omitempty"`
	Died                    string    `json:"died,omitempty"`
}

// The states State returns.
const (
	StateOK      = "ok"
	StateBehind  = "behind"
	StateFailing = "failing"
	StateDown    = "down"
)

// State sums the backend up for people: down (its worker stopped, its
// last pass failed, or it does not answer), failing (zones wait for a
// retry or failed for good), behind (zones not applied yet) or ok.
func (b Backend) State() string {
	switch {
	case !b.Alive || b.Down || b.PassError != "":
		return StateDown
	case b.Failing > 0 || b.Permanent > 0:
		return StateFailing
	case b.Behind > 0:
		return StateBehind
	}
	return StateOK
}

// BuildStatus gathers the status document.
func BuildStatus(ctx context.Context, src Source) (Status, error) {
	doc := Status{Version: src.Version, PeerSync: map[string]any{}, Reconciler: map[string]any{},
		Backends: map[string]Backend{}, Workers: Workers{true, true, true}}
	if src.Reconciler != nil {
		if r := src.Reconciler(); r != nil {
			doc.Reconciler = r
		}
	}
	if src.Secondaries != nil {
		doc.Secondaries = src.Secondaries()
	}
	if src.Traffic != nil {
		doc.Traffic = src.Traffic(0)
	}
	if src.Cluster != nil {
		c, err := src.Cluster(ctx)
		if err != nil {
			return doc, err
		}
		doc.Cluster = c
	}
	n, err := src.Store.CountLive(ctx)
	if err != nil {
		return doc, err
	}
	doc.Zones.Total = n
	degraded, dead := false, false
	for _, w := range src.workers() {
		bs, err := BackendOf(ctx, src.Store, w)
		if err != nil {
			return doc, err
		}
		doc.Backends[w.Backend] = bs
		applies, deletes, err := src.Store.Pending(ctx, w.Backend)
		if err != nil {
			return doc, err
		}
		doc.Queues.Save += applies
		doc.Queues.Delete += deletes
		doc.Queues.Retry += bs.Failing
		doc.Queues.DeadLetters += bs.Permanent
		dead = dead || !bs.Alive
		degraded = degraded || bs.Failing > 0 || bs.Permanent > 0 || bs.PassError != ""
	}
	doc.Status = "ok"
	if degraded {
		doc.Status = "degraded"
	}
	if dead {
		doc.Status = "error"
		doc.Workers = Workers{}
	}
	return doc, nil
}

func (src Source) workers() []dispatch.Status {
	if src.Workers == nil {
		return nil
	}
	return src.Workers()
}

// BackendOf is the progress of the backend worker w reports.
func BackendOf(ctx context.Context, st store.Store, w dispatch.Status) (Backend, error) {
	sum, err := st.Summary(ctx, w.Backend)
	if err != nil {
		return Backend{}, err
	}
	bs := Backend{
		Alive: w.Alive, Down: w.Down, DownSince: w.DownSince, Applied: sum.Applied, Behind: sum.Behind, Failing: sum.Failing,
		Permanent: sum.Permanent, LastApply: sum.LastApplied, LastError: sum.LastError, LastErrorZone: sum.LastErrorZone,
		LastPass: w.LastPass, PassError: w.LastError, Died: w.Died,
	}
	if !sum.OldestPending.IsZero() {
		bs.OldestPendingAgeSeconds = time.Since(sum.OldestPending).Seconds()
	}
	return bs, nil
}
