package reconcile

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// heldZone plans one live zone; it returns the zone's delete, if it is an
// orphan, for the deletion limit to judge.
func (pl *planner) heldZone(z NodeZone) ([]Action, bool) {
	var owner *ServerResult
	if z.Owner != "" {
		owner = pl.known[pl.in.Owners.Canon(z.Owner)]
		if owner == nil {
			pl.plan.Untouched++ // another DA server's zone: never ours to change
			return nil, false
		}
		if !owner.Complete {
			pl.plan.Undecided = append(pl.plan.Undecided, z.Name)
			return nil, false
		}
	}
	src, ambiguous := pl.source(z.Name, owner)
	switch {
	case ambiguous:
		pl.plan.Undecided = append(pl.plan.Undecided, z.Name)
	case src == nil && owner != nil:
		return []Action{pl.orphan(z, owner)}, true
	case src == nil: // no owner recorded and nobody has it: nothing to go on
		pl.plan.Undecided = append(pl.plan.Undecided, z.Name)
	case owner == nil:
		pl.add(Backfill, z, src, "", "stored without an owner; "+src.Host+" has it")
	case src != owner:
		pl.add(Migrate, z, src, z.Owner, src.Host+" now has the domain")
	default:
		pl.stale(z, src)
	}
	return nil, false
}

// stale plans a fetch when DA's serial is newer than the stored one.
func (pl *planner) stale(z NodeZone, src *ServerResult) {
	da, ok := src.Serials[z.Name]
	if ok && SerialNewer(da, z.Serial) {
		pl.add(Fetch, z, src, "", fmt.Sprintf("DA serial %d is newer than the stored %d", da, z.Serial))
	}
}

// orphan is the delete of a zone its owner no longer has; it is withheld
// when any configured server did not answer completely, since the domain
// may have moved there.
func (pl *planner) orphan(z NodeZone, owner *ServerResult) Action {
	a := Action{Kind: Delete, Zone: z.Name, Server: owner.Host, From: z.Owner, Version: z.Version,
		Reason: "no DirectAdmin server has it any more"}
	if len(pl.plan.Unknown) > 0 {
		a.Reason = "withheld: no complete answer from " + strings.Join(pl.plan.Unknown, ", ")
	}
	return a
}

// source picks the complete server the zone's text comes from: the one
// whose domains include it (its local owner), else the one whose DNS
// lists it. The recorded owner wins a tie; any other tie is ambiguous.
func (pl *planner) source(name string, owner *ServerResult) (*ServerResult, bool) {
	var claim, list []*ServerResult
	for i := range pl.in.Servers {
		s := &pl.in.Servers[i]
		if !s.Complete {
			continue
		}
		if _, ok := s.Owners[name]; ok {
			claim = append(claim, s)
		}
		if s.Zones[name] {
			list = append(list, s)
		}
	}
	for _, set := range [][]*ServerResult{claim, list} {
		switch {
		case len(set) == 0:
			continue
		case owner != nil && slices.Contains(set, owner):
			return owner, false
		case len(set) == 1:
			return set[0], false
		}
		return nil, true
	}
	return nil, false
}

// missing plans a fetch of every zone a complete server has and this node
// lacks (never stored, or deleted here).
func (pl *planner) missing(held map[string]bool) {
	lack := map[string]bool{} // only the names not held: a few, not all of DA's
	for _, s := range pl.in.Servers {
		if !s.Complete {
			continue
		}
		for n := range s.Zones {
			if !held[n] {
				lack[n] = true
			}
		}
		for n := range s.Owners {
			if !held[n] {
				lack[n] = true
			}
		}
	}
	lacking := slices.Sorted(maps.Keys(lack))
	for _, n := range lacking {
		if pl.in.ValidName != nil && !pl.in.ValidName(n) {
			pl.plan.Invalid = append(pl.plan.Invalid, n)
			continue
		}
		src := pl.firstSource(n)
		z := NodeZone{Name: n, Version: pl.in.Tombstones[n]}
		reason := "missing here"
		if z.Version > 0 {
			reason = "deleted here but " + src.Host + " still has it"
		}
		pl.add(Fetch, z, src, "", reason)
	}
}

// firstSource is source without a recorded owner, breaking ties by
// configuration order: the zone is better served than missing.
func (pl *planner) firstSource(name string) *ServerResult {
	if s, ambiguous := pl.source(name, nil); s != nil && !ambiguous {
		return s
	}
	for i := range pl.in.Servers {
		if s := &pl.in.Servers[i]; s.Complete {
			if _, ok := s.Owners[name]; ok {
				return s
			}
		}
	}
	for i := range pl.in.Servers {
		if s := &pl.in.Servers[i]; s.Complete && s.Zones[name] {
			return s
		}
	}
	return nil // unreachable: name came from a complete server
}

func (pl *planner) add(k Kind, z NodeZone, src *ServerResult, from, reason string) {
	pl.plan.Actions = append(pl.plan.Actions, Action{
		Kind: k, Zone: z.Name, Server: src.Host, From: from, User: src.Owners[z.Name],
		Reason: reason, Version: z.Version,
	})
}

// limitDeletes keeps the orphans' deletes in the plan unless a server is
// unknown or they exceed the deletion limit; then none is done.
func (pl *planner) limitDeletes(orphans []Action, live int) {
	if len(orphans) == 0 {
		return
	}
	if len(pl.plan.Unknown) > 0 {
		pl.plan.Withheld = orphans
		return
	}
	limit := DeleteLimit(live, pl.in.MaxDeleteFraction)
	if len(orphans) > limit {
		pl.plan.DeleteRefusal = fmt.Sprintf("%d of %d zones would be deleted, over the limit of %d (reconciliation.max_delete_fraction %g); nothing deleted",
			len(orphans), live, limit, pl.in.MaxDeleteFraction)
		for i := range orphans {
			orphans[i].Reason = "refused: over the deletion limit"
		}
		pl.plan.Withheld = orphans
		return
	}
	pl.plan.Actions = append(pl.plan.Actions, orphans...)
}

// DeleteLimit is the most zones one pass may delete out of live: the
// fraction rounded down, but at least one.
func DeleteLimit(live int, fraction float64) int {
	return max(1, int(math.Floor(float64(live)*fraction+1e-9)))
}

// SerialNewer reports whether SOA serial a is newer than b (RFC 1982).
func SerialNewer(a, b uint32) bool {
	return a != b && int32(a-b) > 0
}
