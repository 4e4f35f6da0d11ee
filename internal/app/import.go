package app

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/importer"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/zone"
)

const importHelp = `Imports zones through the same path as a DirectAdmin push: through the
running server's admin API when it answers, else directly on the store.

  directdnsonly  directdnsonly's domains table: its SQLite file (--db; default
                 datastore.db_location when that is a directdnsonly database,
                 else ./data/directdnsonly.db) or its MySQL datastore (--mysql
                 user:pass@tcp(host:port)/name)
  zones DIR      DIR/<zone>.db files, or the zone statements of a named.conf /
                 nsd.conf (--named-conf) naming files relative to DIR

Exit status: 0 every zone imported or unchanged; 3 some were not (refused,
missing text, kept because dadns holds a newer serial, duplicates); 1 error.
`

// importBatch bounds the entries sent in one admin API request.
const (
	importBatch      = 500
	importBatchBytes = 32 << 20
)

// importFlags declares the import flags and returns what runs it.
func importFlags(fl *flag.FlagSet) func(in *invocation) int {
	u, insecure := clientFlags(fl)
	dbPath := fl.String("db", "", "directdnsonly's SQLite database")
	mysqlDSN := fl.String("mysql", "", "directdnsonly's MySQL datastore DSN (user:pass@tcp(host:port)/name)")
	namedConf := fl.String("named-conf", "", "named.conf or nsd.conf listing the zones (import zones)")
	owner := fl.String("owner", "", "DirectAdmin server recorded for zones whose source names none")
	dry := fl.Bool("dry-run", false, "report what would happen, change nothing")
	force := fl.Bool("force", false, "overwrite zones dadns holds with a newer serial")
	direct := fl.Bool("direct", false, "write the store directly (dadns must be stopped)")
	asJSON := fl.Bool("json", false, "print the results as JSON")
	return func(in *invocation) int {
		kind, pos := in.args[0], in.args[1:]
		switch {
		case kind == "directdnsonly" && len(pos) == 0 && *namedConf == "" && !(*dbPath != "" && *mysqlDSN != ""):
		case kind == "zones" && len(pos) == 1 && *dbPath == "" && *mysqlDSN == "":
		default:
			return in.usageError("")
		}
		cfg := in.config()
		if cfg == nil {
			return 1
		}
		return runImport(in.ctx, cfg, importArgs{kind: kind, pos: pos, url: *u, insecure: *insecure, db: *dbPath,
			mysql: *mysqlDSN, namedConf: *namedConf, direct: *direct, json: *asJSON,
			opt: importer.Options{DryRun: *dry, Force: *force, Owner: *owner}}, in.stdout, in.stderr)
	}
}

// importArgs are one import's parsed arguments.
type importArgs struct {
	kind, url, db, mysql, namedConf string
	pos                             []string
	insecure, direct, json          bool
	opt                             importer.Options
}

func runImport(ctx context.Context, cfg *config.Config, a importArgs, stdout, stderr io.Writer) int {
	var entries []importer.Entry
	var notes []string
	var from string
	var err error
	if a.kind == "directdnsonly" {
		entries, from, err = readDirectdnsonly(ctx, cfg, a.db, a.mysql)
	} else {
		from = a.pos[0]
		if a.namedConf != "" {
			from = a.namedConf + " (files in " + a.pos[0] + ")"
		}
		entries, notes, err = importer.ReadZoneDir(a.pos[0], a.namedConf)
	}
	if err != nil {
		fmt.Fprintf(stderr, "dadns: import %s: %v\n", a.kind, err)
		return 1
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	opt := a.opt
	var results []importer.Result
	var via string
	start := time.Now()
	if a.direct {
		results, via, err = importDirect(ctx, cfg, entries, opt)
	} else {
		var c *adminClient
		c, err = newAdminClient(cfg, a.url, a.insecure)
		switch {
		case err == nil:
			results, err = importRemote(ctx, c, entries, opt)
			via = "through the running server's admin API at " + c.base
			if isConnRefused(err) {
				results, via, err = importDirect(ctx, cfg, entries, opt)
			}
		case a.url == "":
			// No credentials to reach a server with: there is none to reach.
			results, via, err = importDirect(ctx, cfg, entries, opt)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "dadns: import %s: %v\n", a.kind, err)
		return 1
	}
	elapsed := time.Since(start)
	if a.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"from": from, "via": via, "dry_run": opt.DryRun, "seconds": elapsed.Seconds(),
			"summary": importer.Summary(results), "results": results})
	} else {
		printImportReport(stdout, from, via, opt.DryRun, elapsed, results)
	}
	sum := importer.Summary(results)
	if sum[importer.Failed] > 0 {
		return 1
	}
	if len(results) != sum[importer.Imported]+sum[importer.WouldImport]+sum[importer.Unchanged] {
		return 3
	}
	return 0
}

func readDirectdnsonly(ctx context.Context, cfg *config.Config, dbPath, dsn string) ([]importer.Entry, string, error) {
	var db *sql.DB
	var err error
	var from string
	if dsn != "" {
		db, err = importer.OpenDirectdnsonlyMySQL(dsn)
		from = "directdnsonly MySQL datastore"
	} else {
		if dbPath == "" {
			dbPath = defaultDirectdnsonlyDB(ctx, cfg)
		}
		db, err = importer.OpenDirectdnsonlySQLite(dbPath)
		from = dbPath
	}
	if err != nil {
		return nil, "", err
	}
	defer db.Close()
	entries, err := importer.ReadDirectdnsonly(ctx, db)
	return entries, from, err
}

// defaultDirectdnsonlyDB is datastore.db_location when that file is
// directdnsonly's database (an app.yml carried over), else directdnsonly's
// own default.
func defaultDirectdnsonlyDB(ctx context.Context, cfg *config.Config) string {
	if p := cfg.Datastore.DBLocation; p != "" {
		if db, err := importer.OpenDirectdnsonlySQLite(p); err == nil {
			_, err = importer.ReadDirectdnsonly(ctx, db)
			db.Close()
			if err == nil {
				return p
			}
		}
	}
	return filepath.Join(".", "data", "directdnsonly.db")
}

// importDirect writes the store itself: dadns is not running (its backends
// apply the zones when it starts).
func importDirect(ctx context.Context, cfg *config.Config, entries []importer.Entry, opt importer.Options) ([]importer.Result, string, error) {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	svc := push.New(push.Options{
		Store:      st,
		MaxZones:   cfg.Limits.MaxZones,
		ZoneLimits: zone.Limits{MaxRecords: cfg.Limits.MaxRecordsPerZone},
		Owners:     ownerAliases(cfg),
		Logger:     newLogger(cfg, io.Discard),
	})
	opt.Limits = svc.Limits()
	res, err := importer.Run(ctx, importer.PushTarget{Push: svc, Store: st}, entries, opt)
	return res, "directly on the store at " + cfg.DBPath() + " (no dadns answered; its backends apply the zones when it starts)", err
}

// importRemote sends the entries to the running server in batches.
func importRemote(ctx context.Context, c *adminClient, entries []importer.Entry, opt importer.Options) ([]importer.Result, error) {
	var out []importer.Result
	for start := 0; start < len(entries) || start == 0; {
		end, size := start, 0
		for end < len(entries) && end-start < importBatch {
			if e := entries[end]; e.Text != nil {
				size += len(*e.Text)
			}
			if size > importBatchBytes && end > start {
				break
			}
			end++
		}
		var res struct {
			Results []importer.Result `json:"results"`
		}
		req := map[string]any{"dry_run": opt.DryRun, "force": opt.Force, "owner": opt.Owner, "entries": entries[start:end]}
		if err := c.post(ctx, "/api/v1/import", req, &res); err != nil {
			return out, err
		}
		out = append(out, res.Results...)
		if end == len(entries) {
			break
		}
		start = end
	}
	return out, nil
}

// post sends a JSON body and decodes the JSON answer.
func (c *adminClient) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(c.user, c.pass)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return errors.New("the server refused the credentials (401)")
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("HTTP %d: %s", resp.StatusCode, e.Error)
		}
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.Unmarshal(b, out)
}

func isConnRefused(err error) bool {
	return err != nil && errors.Is(err, syscall.ECONNREFUSED)
}

func printImportReport(w io.Writer, from, via string, dry bool, elapsed time.Duration, results []importer.Result) {
	verb := "Imported"
	if dry {
		verb = "Dry run (nothing changed)"
	}
	fmt.Fprintf(w, "%s from %s, %s, in %.1f s.\n\n", verb, from, via, elapsed.Seconds())
	sum := importer.Summary(results)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OUTCOME\tZONES")
	for _, o := range importer.Outcomes() {
		if sum[o] > 0 {
			fmt.Fprintf(tw, "%s\t%d\n", o, sum[o])
		}
	}
	fmt.Fprintf(tw, "total\t%d\n", len(results))
	_ = tw.Flush()
	var detail []importer.Result
	for _, r := range results {
		switch r.Outcome {
		case importer.Imported, importer.WouldImport, importer.Unchanged:
		default:
			detail = append(detail, r)
		}
	}
	if len(detail) == 0 {
		return
	}
	sort.SliceStable(detail, func(i, j int) bool { return detail[i].Outcome < detail[j].Outcome })
	fmt.Fprintln(w, "\nNot imported:")
	for _, r := range detail {
		reason := strings.ReplaceAll(r.Reason, "\n", "\n      ")
		fmt.Fprintf(w, "  %s %s (%s): %s\n", r.Outcome, r.Zone, r.Source, reason)
	}
	var missing []string
	for _, r := range detail {
		if r.Outcome == importer.MissingText {
			missing = append(missing, r.Zone)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, "\n%d zone(s) have no text in the source: reconciliation (reconciliation.enabled with the DirectAdmin servers configured) fetches them, or push them again from DirectAdmin.\n", len(missing))
	}
}
