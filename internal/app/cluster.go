package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/mysql"
	storenode "github.com/dadns/dadns/internal/store/node"
	"github.com/dadns/dadns/internal/store/sqlite"
)

// Heartbeats: a node writes its row every heartbeatEvery and is shown dead
// once it has been silent for nodeDeadAfter.
const (
	heartbeatEvery = 5 * time.Second
	nodeDeadAfter  = 30 * time.Second
)

// openStore opens the configured database: the SQLite file, or MySQL.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if !cfg.Datastore.IsMySQL() {
		st, err := sqlite.Open(ctx, cfg.DBPath(), sqlite.Options{MaxSizeBytes: int64(cfg.Datastore.MaxSizeMB) << 20})
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	st, err := openMySQL(ctx, cfg.Datastore)
	if err != nil {
		return nil, err
	}
	return st, nil
}

func openMySQL(ctx context.Context, d config.DatastoreConfig) (*mysql.Store, error) {
	if d.DSN != "" {
		return mysql.Open(ctx, d.DSN, mysql.Options{})
	}
	c, err := mysql.Keys{Host: d.Host, Port: d.Port, Name: d.Name, User: d.User, Pass: d.Pass,
		TLS: d.TLS, TLSCA: d.TLSCA, TLSSkipVerify: d.TLSSkipVerify}.Config()
	if err != nil {
		return nil, fmt.Errorf("store: mysql: %w", err)
	}
	return mysql.OpenConfig(ctx, c, mysql.Options{})
}

// nodeID is app.node_id, or the host name.
func nodeID(cfg *config.Config) string {
	if cfg.App.NodeID != "" {
		return cfg.App.NodeID
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "dadns"
	}
	return h
}

// sharedTypes are the backend types whose data every node shares (one
// database), so one node applies a change; the others are local.
var sharedTypes = map[string]bool{config.TypeCoreDNSMySQL: true, config.TypePowerDNS: true}

// cluster is this node's view of a shared store; nil with SQLite.
type cluster struct {
	raw     store.Store
	c       store.Cluster
	self    store.Node
	shared  map[string]bool // backend instance → shared
	backend []string        // enabled instances
}

// joinCluster binds st to this node when st is shared, and returns the
// store the rest of dadns uses.
func joinCluster(cfg *config.Config, st store.Store) (store.Store, *cluster) {
	c, ok := st.(store.Cluster)
	if !ok {
		return st, nil
	}
	cl := &cluster{raw: st, c: c, shared: map[string]bool{},
		self: store.Node{ID: nodeID(cfg), Version: Version, Started: time.Now(),
			Addr: fmt.Sprintf("%s:%d", cfg.App.ListenAddress, cfg.App.ListenPort)}}
	for _, b := range cfg.EnabledBackends() {
		cl.backend = append(cl.backend, b.Name)
		cl.shared[b.Name] = sharedTypes[b.Type]
	}
	bound := storenode.Bind(st, c, storenode.Options{ID: cl.self.ID, Shared: func(b string) bool { return cl.shared[b] },
		Lease: time.Duration(cfg.Datastore.ClaimLeaseSeconds) * time.Second})
	op, _ := st.(store.Operator)
	return storenode.WithOperator(bound, op), cl
}

// clockWarnAt is the offset between this machine's clock and the
// database server's beyond which the heartbeat warns: claims and leases
// use the server's clock, but a machine that far off has a clock problem.
const clockWarnAt = 2 * time.Second

// heartbeat writes this node's row until ctx ends.
func (cl *cluster) heartbeat(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	warned := false
	for {
		if err := cl.c.Heartbeat(ctx, cl.self); err != nil && ctx.Err() == nil {
			log.Warn("cluster heartbeat failed", "err", err)
		}
		if o, ok := cl.c.(interface{ ClockOffset() time.Duration }); ok {
			off := o.ClockOffset()
			skewed := off > clockWarnAt || off < -clockWarnAt
			if skewed && !warned {
				log.Warn("this machine's clock differs from the database server's; dadns uses the server's", "offset", off.Round(time.Millisecond))
			}
			warned = skewed
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// changePoll is how often a node looks for zone changes other nodes took.
const changePoll = 500 * time.Millisecond

// watch wakes the workers (notify) whenever another node stored a push or
// delete: a node's own pushes wake them directly, others' only through the
// database. It also runs the store's due fills of the state rows a push
// racing a backend's registration left missing (mysql's FillDue), and
// wakes the workers when one added rows.
func (cl *cluster) watch(ctx context.Context, notify func(), log *slog.Logger) {
	t := time.NewTicker(changePoll)
	defer t.Stop()
	var mark store.ChangeMark
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next, changed, err := cl.c.Changes(ctx, mark)
		if err != nil {
			if ctx.Err() == nil {
				log.Debug("cluster change poll failed", "err", err)
			}
			continue
		}
		mark = next
		if f, ok := cl.c.(interface {
			FillDue(context.Context) (int, error)
		}); ok {
			n, err := f.FillDue(ctx)
			if err != nil && ctx.Err() == nil {
				log.Debug("cluster state fill failed", "err", err)
			}
			changed = changed || n > 0
		}
		if changed {
			notify()
		}
	}
}

// leaseGate lets a timed reconciliation pass run on one node at a time.
func (cl *cluster) leaseGate(ttl time.Duration) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		return cl.c.AcquireLease(ctx, "reconcile", cl.self.ID, ttl)
	}
}

// nodeDoc is one node in /status.
type nodeDoc struct {
	ID              string                   `json:"id"`
	Self            bool                     `json:"self,omitempty"`
	Alive           bool                     `json:"alive"`
	LastSeen        time.Time                `json:"last_seen,omitzero"`
	LastSeenSeconds float64                  `json:"last_seen_seconds_ago"`
	Version         string                   `json:"version"`
	Addr            string                   `json:"addr,omitempty"`
	Started         time.Time                `json:"started,omitzero"`
	Backends        map[string]store.Summary `json:"backends"`
}

// clusterDoc is the cluster section of /status.
type clusterDoc struct {
	Node   string                   `json:"node"`
	Nodes  []nodeDoc                `json:"nodes"`
	Shared map[string]store.Summary `json:"shared_backends"`
}

// status reports every node with its local backends' progress, and the
// shared backends once.
func (cl *cluster) status(ctx context.Context) (any, error) {
	nodes, err := cl.c.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	now := storeNow(cl.c)
	doc := clusterDoc{Node: cl.self.ID, Shared: map[string]store.Summary{}}
	for _, n := range nodes {
		nd := nodeDoc{ID: n.ID, Self: n.ID == cl.self.ID, Alive: n.Alive(now, nodeDeadAfter), LastSeen: n.LastSeen,
			LastSeenSeconds: now.Sub(n.LastSeen).Seconds(), Version: n.Version, Addr: n.Addr, Started: n.Started,
			Backends: map[string]store.Summary{}}
		for _, b := range cl.backend {
			if cl.shared[b] {
				continue
			}
			if nd.Backends[b], err = cl.raw.Summary(ctx, storenode.LocalKey(b, n.ID)); err != nil {
				return nil, err
			}
		}
		doc.Nodes = append(doc.Nodes, nd)
	}
	for _, b := range cl.backend {
		if cl.shared[b] {
			if doc.Shared[b], err = cl.raw.Summary(ctx, b); err != nil {
				return nil, err
			}
		}
	}
	return doc, nil
}

// clusterStatus is the api's cluster section source; nil with SQLite.
func clusterStatus(cl *cluster) func(context.Context) (any, error) {
	if cl == nil {
		return nil
	}
	return cl.status
}

// storeNow is the shared store's time (the database server's clock, which
// heartbeats are written with), or the local clock.
func storeNow(c store.Cluster) time.Time {
	if n, ok := c.(interface{ Now() time.Time }); ok {
		return n.Now()
	}
	return time.Now()
}
