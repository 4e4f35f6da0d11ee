package directadmin_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/directadmin"
	"github.com/dadns/dadns/internal/testutil/fakeda"
)

func client(da *fakeda.Server, mod ...func(*directadmin.Options)) *directadmin.Client {
	opt := directadmin.Options{Host: da.Host, Port: da.Port, Username: "admin", Password: "secret", IPP: 2, VerifySSL: true}
	for _, m := range mod {
		m(&opt)
	}
	return directadmin.New(opt)
}

func fill(da *fakeda.Server, n int) []string {
	var names []string
	for i := range n {
		name := fmt.Sprintf("z%d.example", i)
		da.AddLocal(name, fmt.Sprintf("user%d", i), fakeda.Zone(name, 1))
		names = append(names, name)
	}
	da.AddForeign("other.example", fakeda.Zone("other.example", 1))
	return append(names, "other.example")
}

func TestListZonesPages(t *testing.T) {
	for _, strNum := range []bool{false, true} {
		t.Run(fmt.Sprintf("string_numbers=%v", strNum), func(t *testing.T) {
			da := fakeda.Start(t, fakeda.Options{StringNumbers: strNum})
			want := fill(da, 4) // 5 zones, 2 per page: 3 pages
			got, err := client(da).ListZones(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("ListZones = %v, want %v", got, want)
			}
			if n := count(da.Requests(), "GET /CMD_DNS_ADMIN"); n != 3 {
				t.Fatalf("%d listing requests, want 3", n)
			}
		})
	}
}

func TestEmptyServerListsNothing(t *testing.T) {
	da := fakeda.Start(t, fakeda.Options{})
	got, err := client(da).ListZones(context.Background())
	if err != nil || len(got) != 0 {
		t.Fatalf("ListZones = %v, %v; want empty", got, err)
	}
}

func TestOwnersZoneTextLoginTest(t *testing.T) {
	ctx := context.Background()
	da := fakeda.Start(t, fakeda.Options{})
	fill(da, 2)
	c := client(da)
	if err := c.LoginTest(ctx); err != nil {
		t.Fatal(err)
	}
	owners, err := c.DomainOwners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(owners) != 2 || owners["z1.example"] != "user1" {
		t.Fatalf("DomainOwners = %v", owners)
	}
	text, err := c.ZoneText(ctx, "z0.example")
	if err != nil || string(text) != fakeda.Zone("z0.example", 1) {
		t.Fatalf("ZoneText = %q, %v", text, err)
	}
	if _, err := c.ZoneText(ctx, "absent.example"); !errors.Is(err, directadmin.ErrUnexpected) {
		t.Fatalf("ZoneText of an absent zone: %v", err)
	}
	bad := client(da, func(o *directadmin.Options) { o.Password = "wrong" })
	if err := bad.LoginTest(ctx); err == nil {
		t.Fatal("wrong password passed the login test")
	}
}

func TestSessionLoginFallback(t *testing.T) {
	da := fakeda.Start(t, fakeda.Options{})
	want := fill(da, 3)
	da.RequireSession(true)
	got, err := client(da).ListZones(context.Background())
	if err != nil || len(got) != len(want) {
		t.Fatalf("ListZones through the session login = %v, %v", got, err)
	}
	if n := count(da.Requests(), "POST /CMD_LOGIN"); n != 1 {
		t.Fatalf("%d logins, want exactly 1", n)
	}
	bad := client(da, func(o *directadmin.Options) { o.Password = "wrong" })
	if _, err := bad.ListZones(context.Background()); err == nil {
		t.Fatal("listing with a wrong password succeeded")
	}
}

// TestUnknownNeverEmpty: every kind of unexpected answer is an error, so
// the server's list is unknown rather than empty.
func TestUnknownNeverEmpty(t *testing.T) {
	cases := []struct {
		name  string
		fault fakeda.Fault
		tls   bool
		mod   func(*directadmin.Options)
	}{
		{"html", fakeda.HTML, false, nil},
		{"failed page 2", fakeda.FailPage2, false, nil},
		{"redirect loop", fakeda.RedirectLoop, false, nil},
		{"redirect elsewhere", fakeda.OtherRedirect, false, nil},
		{"no info", fakeda.NoInfo, false, nil},
		{"timeout", fakeda.Hang, false, func(o *directadmin.Options) { o.Timeout = 200 * time.Millisecond }},
		{"tls not trusted", fakeda.None, true, func(o *directadmin.Options) { o.SSL = true }},
		{"plain http to tls", fakeda.None, true, nil},
		{"wrong password", fakeda.None, false, func(o *directadmin.Options) { o.Password = "nope" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			da := fakeda.Start(t, fakeda.Options{TLS: tc.tls})
			fill(da, 4)
			da.SetFault(tc.fault)
			mods := []func(*directadmin.Options){}
			if tc.mod != nil {
				mods = append(mods, tc.mod)
			}
			got, err := client(da, mods...).ListZones(context.Background())
			if err == nil || got != nil {
				t.Fatalf("ListZones = %v, %v; want an error", got, err)
			}
			if !strings.Contains(err.Error(), "directadmin: list zones") {
				t.Fatalf("error %q lacks its context", err)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	da := fakeda.Start(t, fakeda.Options{})
	c := client(da)
	da.Close()
	if got, err := c.ListZones(context.Background()); err == nil || got != nil {
		t.Fatalf("ListZones of a closed server = %v, %v", got, err)
	}
}

func TestTLS(t *testing.T) {
	da := fakeda.Start(t, fakeda.Options{TLS: true})
	fill(da, 1)
	ok := client(da, func(o *directadmin.Options) { o.SSL, o.RootCAs = true, da.CertPool() })
	if _, err := ok.ListZones(context.Background()); err != nil {
		t.Fatalf("trusted TLS: %v", err)
	}
	noVerify := client(da, func(o *directadmin.Options) { o.SSL, o.VerifySSL = true, false })
	if _, err := noVerify.ListZones(context.Background()); err != nil {
		t.Fatalf("verify_ssl off: %v", err)
	}
}

func TestOwnersError(t *testing.T) {
	da := fakeda.Start(t, fakeda.Options{})
	fill(da, 1)
	da.SetFault(fakeda.OwnersError)
	if _, err := client(da).DomainOwners(context.Background()); !errors.Is(err, directadmin.ErrUnexpected) {
		t.Fatalf("DomainOwners with error=1: %v", err)
	}
}

func count(reqs []string, prefix string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// TestListManyPages: pages after the first are asked a few at a time; the
// set is complete and each page asked once.
func TestListManyPages(t *testing.T) {
	da := fakeda.Start(t, fakeda.Options{})
	want := fill(da, 50) // 51 zones, 2 per page: 26 pages
	got, err := client(da).ListZoneSet(context.Background())
	if err != nil || len(got) != len(want) {
		t.Fatalf("ListZoneSet = %d zones, %v; want %d", len(got), err, len(want))
	}
	for _, n := range want {
		if !got[n] {
			t.Fatalf("%s missing", n)
		}
	}
	if n := count(da.Requests(), "GET /CMD_DNS_ADMIN"); n != 26 {
		t.Fatalf("%d listing requests, want 26", n)
	}
	da.SetFault(fakeda.FailPage2)
	if got, err := client(da).ListZoneSet(context.Background()); err == nil || got != nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("a failing page: %d zones, %v", len(got), err)
	}
}
