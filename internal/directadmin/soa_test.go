package directadmin_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/directadmin"
	"github.com/dadns/dadns/internal/testutil/fakeda"
)

func TestSOASerials(t *testing.T) {
	da := fakeda.Start(t, fakeda.Options{})
	var names []string
	for i := range 12 {
		name := fmt.Sprintf("z%d.example", i)
		da.AddLocal(name, "u", fakeda.Zone(name, uint32(100+i)))
		names = append(names, name)
	}
	names = append(names, "absent.example", "Z0.Example.")
	da.SetDNSFault("z1.example", fakeda.DNSNotAA)
	da.SetDNSFault("z2.example", fakeda.DNSRefused)
	da.SetDNSFault("z3.example", fakeda.DNSServFail)
	da.SetDNSFault("z4.example", fakeda.DNSNoSOA)
	da.SetDNSFault("z5.example", fakeda.DNSDrop)
	da.SetDNSFault("z6.example", fakeda.DNSTruncate)
	da.SetDNSSerial("z7.example", 7)
	res, st := directadmin.SOASerials(context.Background(), directadmin.SOAOptions{
		Address: da.DNSAddr(), Timeout: time.Second, Parallel: 3}, names)
	want := map[string]error{
		"z1.example": directadmin.ErrNotAuthoritative, "z2.example": directadmin.ErrDNSAnswer,
		"z3.example": directadmin.ErrDNSAnswer, "z4.example": directadmin.ErrDNSAnswer,
		"absent.example": directadmin.ErrDNSAnswer,
	}
	for i, name := range names {
		r := res[i]
		switch {
		case want[name] != nil:
			if !errors.Is(r.Err, want[name]) {
				t.Errorf("%s: %+v, want %v", name, r, want[name])
			}
		case name == "z5.example":
			if r.Err == nil {
				t.Errorf("%s: an unanswered question gave %+v", name, r)
			}
		case name == "z7.example":
			if r.Err != nil || r.Serial != 7 {
				t.Errorf("%s: %+v, want the serial DNS answers (7)", name, r)
			}
		case name == "Z0.Example.":
			if r.Err != nil || r.Serial != 100 {
				t.Errorf("%s: %+v", name, r)
			}
		default:
			var n int
			fmt.Sscanf(name, "z%d.example", &n)
			if r.Err != nil || r.Serial != uint32(100+n) {
				t.Errorf("%s: %+v, want serial %d", name, r, 100+n)
			}
		}
	}
	if st.TCP != 1 || st.Answered != 8 || st.Failed != 6 || st.GaveUp {
		t.Errorf("stats %+v", st)
	}
	if udp, tcp := da.DNSQueries(); tcp != 1 || udp != st.UDP {
		t.Errorf("fake saw udp=%d tcp=%d; client counted %+v", udp, tcp, st)
	}
}

// TestSOASerialsServerDown: nothing listening makes every result an error
// quickly: the batch gives up instead of waiting out every zone.
func TestSOASerialsServerDown(t *testing.T) {
	da := fakeda.Start(t, fakeda.Options{})
	addr := da.DNSAddr()
	da.Close()
	names := make([]string, 200)
	for i := range names {
		names[i] = fmt.Sprintf("z%d.example", i)
	}
	res, st := directadmin.SOASerials(context.Background(), directadmin.SOAOptions{
		Address: addr, Timeout: 100 * time.Millisecond, Parallel: 4}, names)
	if !st.GaveUp || st.Failed != len(names) || st.UDP > 2*(8+4) {
		t.Fatalf("stats %+v: want a quick give-up", st)
	}
	if !errors.Is(res[len(res)-1].Err, directadmin.ErrDNSGaveUp) {
		t.Fatalf("last result %+v", res[len(res)-1])
	}
	if _, st := directadmin.SOASerials(context.Background(), directadmin.SOAOptions{Address: "no-port"}, names[:1]); !st.GaveUp {
		t.Fatalf("a bad address: %+v", st)
	}
}
