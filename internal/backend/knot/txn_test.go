package knot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/knottest"
	"github.com/dadns/dadns/internal/zone"
)

// The backend replaces zone contents with zone files and zone-reload,
// which measured far faster than zone transactions (TestContentPathsCompared
// and the README). The transaction path below exists for that measurement
// and to show that a failed zone transaction is aborted as well.

// transactionLines are the knotc actions that turn old into cur inside an
// open transaction: zone-unset of each record gone, zone-set of each new.
func transactionLines(old, cur *zone.Zone) []string {
	have, want := rrLines(old), rrLines(cur)
	var out []string
	for _, l := range have {
		if !slices.Contains(want, l) {
			f := strings.Fields(l) // owner ttl type rdata...
			out = append(out, fmt.Sprintf("zone-unset %s %s %s %s", cur.Name, f[0], f[2], strings.Join(f[3:], " ")))
		}
	}
	for _, l := range want {
		if !slices.Contains(have, l) {
			out = append(out, fmt.Sprintf("zone-set %s %s", cur.Name, l))
		}
	}
	return out
}

// rrLines renders records as "owner ttl TYPE rdata", as zone-set takes them.
func rrLines(z *zone.Zone) []string {
	var out []string
	for _, rr := range z.RRs() {
		h := rr.Header()
		rdata := strings.TrimPrefix(rr.String(), h.String())
		out = append(out, fmt.Sprintf("%s %d %s %s", h.Name, h.Ttl, dns.TypeToString[h.Rrtype], strings.TrimSpace(rdata)))
	}
	return out
}

// zoneTransactions runs zone-begin for the zones, the lines, and
// zone-commit, through one knotc session; when anything fails, every
// transaction it began is aborted.
func zoneTransactions(ctx context.Context, k *knotc, names []zone.Name, lines []string) error {
	args := namesOf(names)
	if _, err := k.run(ctx, append([]string{"zone-begin"}, args...)...); err != nil {
		return err
	}
	err := k.session(ctx, lines)
	if err == nil {
		_, err = k.run(ctx, append([]string{"zone-commit"}, args...)...)
	}
	if err != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.timeout)
		defer cancel()
		if _, aerr := k.run(actx, append([]string{"zone-abort"}, args...)...); aerr != nil {
			return fmt.Errorf("%w (and zone-abort failed: %v)", err, aerr)
		}
	}
	return err
}

// TestFailedZoneTransactionAborted: a zone transaction with a record knotd
// refuses fails with knotd's message, is aborted (a new zone-begin
// succeeds), and the served zone is unchanged; a good one applies.
func TestFailedZoneTransactionAborted(t *testing.T) {
	r := newRig(t, knottest.Options{})
	b := r.backend(t, false)
	ctx := testCtx(t)
	v1, v2 := zones(t, "ztx", 2, 1), zones(t, "ztx", 2, 2)
	if err := b.Apply(ctx, v1); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, v1)
	names := []zone.Name{v1[0].Name, v1[1].Name}
	lines := append(transactionLines(v1[0], v2[0]), fmt.Sprintf("zone-set %s bad 300 A not-an-address", v1[1].Name))
	err := zoneTransactions(ctx, b.knotc, names, lines)
	if err == nil || !strings.Contains(err.Error(), "zone-set") {
		t.Fatalf("transaction with a bad record: %v", err)
	}
	for _, n := range names {
		if err := r.knot.Knotc("zone-begin", string(n)); err != nil {
			t.Fatalf("%s: a transaction was left open: %v", n, err)
		}
		if err := r.knot.Knotc("zone-abort", string(n)); err != nil {
			t.Fatal(err)
		}
		if got, err := b.soaSerial(ctx, n); err != nil || got != 1 {
			t.Fatalf("%s after the aborted transaction: serial %d, %v", n, got, err)
		}
	}
	var good []string
	for i := range v1 {
		good = append(good, transactionLines(v1[i], v2[i])...)
	}
	if err := zoneTransactions(ctx, b.knotc, names, good); err != nil {
		t.Fatal(err)
	}
	for _, z := range v2 {
		if got, err := b.soaSerial(ctx, z.Name); err != nil || got != 2 {
			t.Fatalf("%s after the transaction: serial %d, %v", z.Name, got, err)
		}
	}
}
