// Package reconcile compares what the configured DirectAdmin servers hold
// with this node's store and heals the difference through the normal push
// path: zones missed while the node was down are fetched, stale ones
// refreshed, owners backfilled or migrated, and zones of deleted domains
// removed, but only when every server answered completely and the pass
// stays under the deletion limit. A pass is a pure Plan, then an apply.
package reconcile

import (
	"fmt"
	"slices"

	"github.com/dadns/dadns/internal/push"
)

// Kind is what an action does to one zone.
type Kind string

// The action kinds. Fetch, Migrate and Backfill all store DA's zone text
// as a push from the source server; Delete tombstones the zone.
const (
	Fetch    Kind = "fetch"    // missing here, or DA's serial is newer
	Migrate  Kind = "migrate"  // another configured server now owns the zone
	Backfill Kind = "backfill" // stored without an owner; a server owns it
	Delete   Kind = "delete"   // owned by a configured server that no longer has it
)

// Kinds lists the kinds in report order.
var Kinds = []Kind{Fetch, Migrate, Backfill, Delete}

// Action is one planned change.
type Action struct {
	Kind   Kind   `json:"kind"`
	Zone   string `json:"zone"`
	Server string `json:"server"`         // source of the text; for Delete, the owner
	From   string `json:"from,omitempty"` // owner as stored (Migrate, Delete)
	User   string `json:"user,omitempty"` // DA user owning the domain, when known
	Reason string `json:"reason"`
	// Version is the stored version the plan saw (0: never stored); the
	// apply skips the action when a push changed the zone meanwhile.
	Version int64 `json:"-"`
}

func (a Action) String() string {
	s := fmt.Sprintf("%-8s %s", a.Kind, a.Zone)
	switch a.Kind {
	case Delete:
		s += " (owner " + a.Server + ")"
	case Migrate:
		s += " from " + a.From + " to " + a.Server
	default:
		s += " from " + a.Server
	}
	return s + ": " + a.Reason
}

// NodeZone is what the plan needs of one live stored zone.
type NodeZone struct {
	Name    string
	Serial  uint32
	Owner   string // DA hostname that pushed it; "" when unknown
	Version int64
}

// ServerResult is what one DirectAdmin server answered. Only a Complete
// result counts: an unknown server never makes a zone look absent.
type ServerResult struct {
	Host     string            // configured hostname
	Complete bool              // the listing (every page) and the owners both answered
	Err      string            // why not complete
	Zones    map[string]bool   // every zone in its DNS (CMD_DNS_ADMIN)
	Owners   map[string]string // its local domains → DA user (CMD_API_DOMAIN_OWNERS)
	Serials  map[string]uint32 // SOA serials read from its zone texts (only where DNS did not settle it)
	Texts    map[string][]byte // texts read for Serials of zones to fetch, kept for the apply
	Cost     ServerCost        // what learning the serials cost
}

// ServerCost is what one server's pass cost: how the serials of the zones
// held here were learnt, and the requests sent.
type ServerCost struct {
	Held         int    `json:"held"`                // zones held here as owned by it (serials learnt)
	SerialCheck  string `json:"serial_check"`        // dns or http
	DNSQueries   int    `json:"dns_queries"`         // SOA questions sent (UDP tries and TCP)
	DNSUnchanged int    `json:"dns_unchanged"`       // serial over DNS equals the stored one: no text read
	DNSChanged   int    `json:"dns_changed"`         // serial over DNS differs: text read
	DNSFallbacks int    `json:"dns_fallbacks"`       // no usable DNS answer: text read
	DNSError     string `json:"dns_error,omitempty"` // the DNS server stopped answering
	Texts        int    `json:"texts_read"`          // zone texts read over HTTP for serials
	// ListSeconds is the time of the listing and the owners; DNSSeconds of
	// the SOA questions; TextSeconds of the texts read for serials.
	ListSeconds float64 `json:"list_seconds"`
	DNSSeconds  float64 `json:"dns_seconds"`
	TextSeconds float64 `json:"text_seconds"`
	// Requests are the HTTP requests sent to the server this pass, by
	// path, the apply's included.
	Requests map[string]int `json:"requests,omitempty"`
}

// has reports whether the server's DNS or its domains hold name.
func (s *ServerResult) has(name string) bool {
	_, local := s.Owners[name]
	return s.Zones[name] || local
}

// Input is everything one plan depends on.
type Input struct {
	Zones      []NodeZone       // live zones of this node
	Tombstones map[string]int64 // deleted zones still remembered → version
	Servers    []ServerResult   // in configuration order
	// Owners maps owner names (aliases included) to server identities.
	Owners push.Owners
	// MaxDeleteFraction bounds the deletes of one pass, as a share of the
	// live zones (at least one delete is always allowed).
	MaxDeleteFraction float64
	// ValidName reports whether a listed name can be stored at all.
	ValidName func(string) bool
}

// Plan is the outcome of one comparison.
type Plan struct {
	Actions []Action `json:"actions"` // what the apply does, by zone
	// Withheld are deletes not done: a server's answer is unknown, or the
	// pass is over the deletion limit (DeleteRefusal says so).
	Withheld      []Action `json:"withheld,omitempty"`
	DeleteRefusal string   `json:"delete_refusal,omitempty"`
	Unknown       []string `json:"unknown_servers,omitempty"` // servers without a complete answer
	Untouched     int      `json:"untouched"`                 // owned by servers not configured
	Undecided     []string `json:"undecided,omitempty"`       // owner unknown this pass, or claimed ambiguously
	Invalid       []string `json:"invalid,omitempty"`         // listed names that are not valid zone names
}

// Count returns the number of planned actions of kind k.
func (p *Plan) Count(k Kind) int {
	n := 0
	for _, a := range p.Actions {
		if a.Kind == k {
			n++
		}
	}
	return n
}

// MakePlan compares the node with the servers' answers. It is pure.
func MakePlan(in Input) Plan {
	pl := planner{in: in, known: map[string]*ServerResult{}}
	for i := range in.Servers {
		s := &in.Servers[i]
		pl.known[in.Owners.Canon(s.Host)] = s
		if !s.Complete {
			pl.plan.Unknown = append(pl.plan.Unknown, s.Host)
		}
	}
	held := map[string]bool{}
	var orphans []Action
	for _, z := range in.Zones {
		held[z.Name] = true
		if a, ok := pl.heldZone(z); ok {
			orphans = append(orphans, a...)
		}
	}
	pl.missing(held)
	pl.limitDeletes(orphans, len(in.Zones))
	slices.SortStableFunc(pl.plan.Actions, func(a, b Action) int { return cmpStr(a.Zone, b.Zone) })
	return pl.plan
}

type planner struct {
	in    Input
	known map[string]*ServerResult // canonical identity → server
	plan  Plan
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
