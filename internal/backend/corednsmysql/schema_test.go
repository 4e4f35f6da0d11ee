package corednsmysql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
	"github.com/dadns/dadns/internal/zone"
)

// pluginZones and pluginRecords are the tables as the plugin creates them.
const pluginZones = `CREATE TABLE zones (id INT NOT NULL AUTO_INCREMENT, zone_name VARCHAR(255) NOT NULL,
  PRIMARY KEY (id), UNIQUE KEY (zone_name)) ENGINE=InnoDB`

const pluginRecords = `CREATE TABLE records (id INT NOT NULL AUTO_INCREMENT, zone_id INT NOT NULL,
  hostname VARCHAR(512) NOT NULL, type VARCHAR(10) NOT NULL, data VARCHAR(1024) NOT NULL,
  ttl INT NOT NULL DEFAULT 120, online INT NOT NULL DEFAULT 0, note VARCHAR(20) NULL,
  PRIMARY KEY (id), FOREIGN KEY (zone_id) REFERENCES zones(id)) ENGINE=InnoDB`

// TestIncompatibleSchemaRefused checks that tables dadns cannot write are
// reported with what differs, and left as they were.
func TestIncompatibleSchemaRefused(t *testing.T) {
	cases := []struct {
		name  string
		stmts []string
		want  []string
	}{
		{"short data, no online", []string{pluginZones, strings.Replace(strings.Replace(pluginRecords,
			"data VARCHAR(1024)", "data VARCHAR(100)", 1), "online INT NOT NULL DEFAULT 0,", "", 1)},
			[]string{"records.data holds 100 characters, needs at least 255", "records.online is missing"}},
		{"not unique, MyISAM", []string{strings.Replace(strings.Replace(pluginZones, "UNIQUE KEY (zone_name)", "KEY (zone_name)", 1),
			"InnoDB", "MyISAM", 1)}, []string{"zones.zone_name has no UNIQUE index", "table zones uses engine MyISAM"}},
		{"required extra column", []string{pluginZones, strings.Replace(pluginRecords, "note VARCHAR(20) NULL", "note VARCHAR(20) NOT NULL", 1)},
			[]string{"records.note is NOT NULL without a default"}},
		{"text ttl", []string{pluginZones, strings.Replace(pluginRecords, "ttl INT NOT NULL DEFAULT 120", "ttl VARCHAR(10) NOT NULL", 1)},
			[]string{"records.ttl is varchar, needs an integer type"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.exec(t, tc.stmts...)
			before := f.showCreate(t)
			err := f.b.Apply(testCtx(t), []*zone.Zone{backendtest.Zone(t, "s.example", 1)})
			if !errors.Is(err, ErrSchema) || errors.Is(err, backend.ErrPermanent) {
				t.Fatalf("Apply = %v, want a (retryable) schema error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if after := f.showCreate(t); after != before {
				t.Fatalf("tables changed:\n%s\nwas\n%s", after, before)
			}
		})
	}
}

// TestPluginSchemaAccepted writes into the plugin's own tables (data
// VARCHAR(1024), an extra nullable column): ordinary zones go in, a row
// longer than the data column is refused for its zone alone, permanently.
func TestPluginSchemaAccepted(t *testing.T) {
	f := newFixture(t)
	f.exec(t, pluginZones, pluginRecords)
	ok := backendtest.Zone(t, "ok.example", 1)
	long, err := zone.Parse("long.example", []byte(goldenZone), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	big := `"` + strings.Repeat("x", 250) + `" `
	huge, err := zone.Parse("huge.example", []byte("$TTL 60\n@ IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\nns1 IN A 192.0.2.1\nt IN TXT "+strings.Repeat(big, 5)+"\n"), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	err = f.b.Apply(testCtx(t), []*zone.Zone{ok, long, huge})
	named, rest := backend.PerZone(err)
	if rest != nil || len(named) != 1 || !errors.Is(named["huge.example"], backend.ErrPermanent) {
		t.Fatalf("Apply = %v; want only huge.example refused, permanently", err)
	}
	if err := f.b.AuditZone(huge); !errors.Is(err, backend.ErrPermanent) {
		t.Fatalf("AuditZone(huge) = %v", err)
	}
	for _, z := range []*zone.Zone{ok, long} {
		if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) showCreate(t *testing.T) string {
	t.Helper()
	var out strings.Builder
	for _, table := range []string{"zones", "records"} {
		var name, create string
		if err := f.root.QueryRow("SHOW CREATE TABLE "+table).Scan(&name, &create); err == nil {
			out.WriteString(create + "\n")
		}
	}
	return out.String()
}

// TestOutageThenRecovery stops the database: calls fail (not permanently)
// within the timeout, and the same backend works again once it is back.
func TestOutageThenRecovery(t *testing.T) {
	srv := mariadbtest.Start(t)
	f := newFixtureOn(t, srv, Options{Timeout: 2 * time.Second})
	z1, z2 := backendtest.Zone(t, "up.example", 1), backendtest.Zone(t, "up.example", 2)
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z1}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := f.b.Apply(ctx, []*zone.Zone{z2})
	if err == nil || errors.Is(err, backend.ErrPermanent) || ctx.Err() != nil {
		t.Fatalf("Apply with the database down = %v (ctx %v)", err, ctx.Err())
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z2}); err != nil {
		t.Fatalf("Apply after restart: %v", err)
	}
	if err := f.b.Verify(testCtx(t), z2.Name, z2.Hash()); err != nil {
		t.Fatal(err)
	}
}
