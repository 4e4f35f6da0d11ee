package corednsmysql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// Verify reads the zone's rows back and checks that they are the rows
// Apply wrote for the pushed hash (or, for a zone it did not write since
// dadns started, that the zone rebuilt from them has the hash). It only
// reads: rows that drifted are reported as backend.ErrMismatch saying
// what differs, and left for the dispatcher's next apply (which rewrites
// the zone's rows as a diff) or for Repair.
func (b *Backend) Verify(ctx context.Context, name zone.Name, hash string) error {
	want, proj := b.wanted(name, hash)
	if proj != nil {
		have, err := b.zoneRows(ctx, name)
		if errors.Is(err, backend.ErrNotFound) {
			return fmt.Errorf("coredns_mysql: verify %s: %w: the zone has no zones row (%d rows missing)", name, backend.ErrMismatch, len(proj.rows))
		}
		if err != nil {
			return fmt.Errorf("coredns_mysql: verify %s: %w", name, err)
		}
		if what := drifted(*proj, have); what != "" {
			return fmt.Errorf("coredns_mysql: verify %s: %w: %s", name, backend.ErrMismatch, what)
		}
		return nil
	}
	got, err := b.Zone(ctx, name)
	if err != nil {
		return fmt.Errorf("coredns_mysql: verify %s: %w", name, err)
	}
	if got.Hash() != want {
		return fmt.Errorf("coredns_mysql: verify %s: %w (rows give %.12s, want %.12s)", name, backend.ErrMismatch, got.Hash(), want)
	}
	return nil
}

// wanted returns the hash the rows should give for the pushed hash, and
// the rows Apply wrote for it when it did since dadns started.
func (b *Backend) wanted(name zone.Name, hash string) (string, *planned) {
	b.mu.Lock()
	defer b.mu.Unlock()
	want := hash
	if s, ok := b.signed[name]; ok && s.full == hash {
		want = s.stored
	}
	if p, ok := b.held[name]; ok && p.hash == want {
		return want, &p
	}
	return want, nil
}

// drifted says how the rows a zone has differ from the rows p wrote, or
// "" when they are the same, or serve the same zone (rows rewritten in an
// equivalent form, or a schema that changes what it stores).
func drifted(p planned, have []stored) string {
	what := describe(p.rows, have)
	if what == "" {
		return ""
	}
	if z, err := served(p.name, have); err == nil && z.Hash() == p.hash {
		return ""
	}
	return what
}

// describe says how the rows a zone has differ from the rows it should
// have (empty when they are the same multiset, all online): rows nobody
// asked for, rows missing, rows hidden (online other than 1) and rows
// duplicated, with a few owner/type examples each (never record data).
func describe(want []row, have []stored) string {
	need := make(map[string]int, len(want))
	for _, w := range want {
		need[w.key()]++
	}
	wanted := make(map[string]bool, len(need))
	for k := range need {
		wanted[k] = true
	}
	var extra, hidden, dup, missing []string
	for _, h := range have {
		k := h.key()
		switch {
		case h.online == 1 && need[k] > 0:
			need[k]--
		case h.online != 1:
			hidden = append(hidden, h.label())
		case wanted[k]:
			dup = append(dup, h.label())
		default:
			extra = append(extra, h.label())
		}
	}
	for _, w := range want {
		if need[w.key()] > 0 {
			need[w.key()]--
			missing = append(missing, w.label())
		}
	}
	var parts []string
	for _, c := range []struct {
		what   string
		labels []string
	}{{"not written by dadns", extra}, {"missing", missing}, {"hidden (online is not 1)", hidden}, {"duplicated", dup}} {
		if len(c.labels) == 0 {
			continue
		}
		slices.Sort(c.labels)
		ex := c.labels[:min(3, len(c.labels))]
		more := ""
		if len(c.labels) > len(ex) {
			more = ", ..."
		}
		parts = append(parts, fmt.Sprintf("%d rows %s (%s%s)", len(c.labels), c.what, strings.Join(ex, ", "), more))
	}
	return strings.Join(parts, "; ")
}

// label names a row by owner and type, for messages.
func (r row) label() string { return r.host + " " + r.typ }
