// Package importer moves zones held elsewhere into dadns: the domains table
// of a directdnsonly database (SQLite or MySQL), or a directory of zone files
// (optionally listed by a named.conf or nsd.conf include). Every zone takes
// the same path as a DirectAdmin push (validation, canonical form,
// ownership), so an imported zone is stored exactly like a pushed one.
//
// An import is idempotent: a zone dadns already holds with the same content
// and owner is reported unchanged and not written again. A zone dadns holds
// with a newer SOA serial than the imported text is never overwritten unless
// the operator forces it.
package importer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/zone"
)

// Entry is one zone as a source holds it. Name is as found (any case, a
// trailing dot possible); Text is nil when the source has no zone text.
type Entry struct {
	Name    string    `json:"name"`
	Host    string    `json:"host,omitempty"` // owning DirectAdmin server; "" when unknown
	User    string    `json:"user,omitempty"`
	Text    *string   `json:"text,omitempty"`
	Updated time.Time `json:"updated,omitzero"` // when the source last stored Text
	Source  string    `json:"source"`           // where it came from: "row 12", a file path
}

// Outcome is what an import did (or, in a dry run, would do) with one entry.
type Outcome string

// The outcomes, in report order.
const (
	Imported    Outcome = "imported"     // stored (dry run: would be stored)
	Unchanged   Outcome = "unchanged"    // dadns holds the same content and owner
	Refused     Outcome = "refused"      // invalid name or zone text; nothing stored
	Newer       Outcome = "kept-newer"   // dadns holds a newer serial; --force overwrites
	MissingText Outcome = "missing-text" // the source has no zone text: reconciliation fetches it
	Duplicate   Outcome = "duplicate"    // another entry for the same zone won
	Failed      Outcome = "failed"       // storing failed (a storage error): try again
	WouldImport Outcome = "would-import" // dry run of Imported
)

// Result is the outcome for one entry.
type Result struct {
	Zone       string  `json:"zone"` // normalized name, or the raw name when invalid
	Source     string  `json:"source"`
	Outcome    Outcome `json:"outcome"`
	Reason     string  `json:"reason,omitempty"`
	Serial     uint32  `json:"serial,omitempty"`
	HeldSerial uint32  `json:"held_serial,omitempty"`
	Owner      string  `json:"owner,omitempty"`
}

// Held is what dadns holds for a zone, as far as an import needs to know.
type Held struct {
	Hash      string
	Serial    uint32
	OwnerHost string
	OwnerUser string
}

// Target is where zones are imported to: the store directly (dadns
// stopped) or a running dadns.
type Target interface {
	// Held returns the live zones among names.
	Held(ctx context.Context, names []string) (map[string]Held, error)
	// Save stores one zone exactly as a push from host/user would.
	Save(ctx context.Context, name zone.Name, text []byte, host, user string) error
	// SameOwner compares DirectAdmin server identities (aliases included).
	SameOwner(a, b string) bool
}

// Options tune an import.
type Options struct {
	DryRun bool
	// Force overwrites zones dadns holds with a newer serial.
	Force bool
	// Owner is the DirectAdmin server recorded for entries whose source
	// names none ("" keeps them without an owner).
	Owner  string
	Limits zone.Limits
	// Workers is how many zones are stored at once (default 32).
	Workers int
}

// Run imports entries into t and returns one result per entry, in the
// order the entries came. Storage errors of single zones are reported per
// zone; the error returned is for failures that stop the whole import
// (the target cannot be read).
func Run(ctx context.Context, t Target, entries []Entry, opt Options) ([]Result, error) {
	if opt.Workers <= 0 {
		opt.Workers = 32
	}
	results := make([]Result, len(entries))
	winners := map[zone.Name]int{} // normalized name → index of the entry that wins
	names := make([]zone.Name, len(entries))
	for i, e := range entries {
		results[i] = Result{Zone: e.Name, Source: e.Source}
		n, err := zone.ParseName(strings.TrimSpace(e.Name))
		if err != nil {
			results[i].Outcome, results[i].Reason = Refused, err.Error()
			continue
		}
		names[i] = n
		results[i].Zone = n.String()
		if j, seen := winners[n]; seen {
			loser := i
			if prefer(entries[i], entries[j]) {
				winners[n], loser = i, j
			}
			w := winners[n]
			results[loser].Outcome = Duplicate
			results[loser].Reason = fmt.Sprintf("the same zone as %q (%s), which is newer or later in the source", entries[w].Name, entries[w].Source)
			continue
		}
		winners[n] = i
	}
	wanted := make([]string, 0, len(winners))
	for n := range winners {
		wanted = append(wanted, n.String())
	}
	sort.Strings(wanted)
	held, err := heldChunked(ctx, t, wanted)
	if err != nil {
		return nil, err
	}
	// Several saves at once: the store commits concurrent pushes in one
	// transaction, so a large import is not one fsync per zone.
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(1, opt.Workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = importOne(ctx, t, entries[i], names[i], held, opt)
			}
		}()
	}
	for _, i := range sortedIndexes(winners) {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	return results, ctx.Err()
}

// prefer reports whether a should win over b for the same zone: the one the
// source updated last; on a tie (or no times) the later entry.
func prefer(a, b Entry) bool {
	if a.Text == nil && b.Text != nil {
		return false
	}
	if a.Text != nil && b.Text == nil {
		return true
	}
	return !a.Updated.Before(b.Updated)
}

func sortedIndexes(m map[zone.Name]int) []int {
	out := make([]int, 0, len(m))
	for _, i := range m {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// heldChunked asks the target in bounded chunks.
func heldChunked(ctx context.Context, t Target, names []string) (map[string]Held, error) {
	const chunk = 500
	out := make(map[string]Held, len(names))
	for start := 0; start < len(names); start += chunk {
		end := min(start+chunk, len(names))
		got, err := t.Held(ctx, names[start:end])
		if err != nil {
			return nil, fmt.Errorf("reading the zones dadns holds: %w", err)
		}
		for k, v := range got {
			out[k] = v
		}
	}
	return out, nil
}

func importOne(ctx context.Context, t Target, e Entry, name zone.Name, held map[string]Held, opt Options) Result {
	r := Result{Zone: name.String(), Source: e.Source}
	host := strings.TrimSpace(e.Host)
	if host == "" {
		host = opt.Owner
	}
	r.Owner = host
	if e.Text == nil || strings.TrimSpace(*e.Text) == "" {
		r.Outcome, r.Reason = MissingText, "the source holds no zone text: reconciliation fetches it from DirectAdmin"
		return r
	}
	z, err := zone.Parse(name, []byte(*e.Text), opt.Limits)
	if err != nil {
		r.Outcome, r.Reason = Refused, err.Error()
		return r
	}
	r.Serial = z.Serial
	if h, ok := held[name.String()]; ok {
		r.HeldSerial = h.Serial
		sameOwner := t.SameOwner(h.OwnerHost, host) && (e.User == "" || e.User == h.OwnerUser)
		if h.Hash == z.Hash() && sameOwner {
			r.Outcome = Unchanged
			return r
		}
		if serialNewer(h.Serial, z.Serial) && !opt.Force {
			r.Outcome = Newer
			r.Reason = fmt.Sprintf("dadns holds serial %d, newer than the imported %d (--force overwrites)", h.Serial, z.Serial)
			return r
		}
	}
	if opt.DryRun {
		r.Outcome = WouldImport
		return r
	}
	if err := t.Save(ctx, name, []byte(*e.Text), host, e.User); err != nil {
		var ze *zone.Error
		if errors.As(err, &ze) {
			r.Outcome, r.Reason = Refused, err.Error()
			return r
		}
		r.Outcome, r.Reason = Failed, err.Error()
		return r
	}
	r.Outcome = Imported
	return r
}

// serialNewer reports whether SOA serial a is newer than b (RFC 1982).
func serialNewer(a, b uint32) bool {
	return a != b && int32(a-b) > 0
}

// Summary counts results by outcome.
func Summary(results []Result) map[Outcome]int {
	out := map[Outcome]int{}
	for _, r := range results {
		out[r.Outcome]++
	}
	return out
}

// Outcomes lists every outcome in report order.
func Outcomes() []Outcome {
	return []Outcome{Imported, WouldImport, Unchanged, Newer, MissingText, Duplicate, Refused, Failed}
}
