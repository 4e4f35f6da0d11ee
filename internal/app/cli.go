package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dadns/dadns/internal/config"
)

// adminClient talks to a running dadns's admin API.
type adminClient struct {
	base       string
	user, pass string
	http       *http.Client
}

// clientFlags are the flags every admin command takes.
func clientFlags(fl *flag.FlagSet) (urlFlag *string, insecure *bool) {
	return fl.String("url", "", "`URL` of the dadns to talk to (default: the configured listen address and port)"),
		fl.Bool("insecure", false, "do not verify the server's TLS certificate")
}

// newAdminClient builds the client from the configuration: the admin
// credentials, else DirectAdmin's (the generated password file when none
// is configured).
func newAdminClient(cfg *config.Config, rawURL string, insecure bool) (*adminClient, error) {
	c := &adminClient{base: strings.TrimSuffix(rawURL, "/"), user: cfg.App.AdminUsername, pass: cfg.App.AdminPassword}
	if c.base == "" {
		scheme, host := "http", cfg.App.ListenAddress
		if cfg.App.SSLEnable {
			scheme = "https"
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		c.base = scheme + "://" + net.JoinHostPort(host, strconv.Itoa(cfg.App.ListenPort))
	}
	if c.user == "" {
		c.user, c.pass = cfg.App.AuthUsername, cfg.App.AuthPassword
		if c.pass == "" {
			b, err := os.ReadFile(filepath.Join(cfg.DataDir, passwordFile))
			if err != nil {
				return nil, fmt.Errorf("no password configured and none generated (%w): set app.admin_password or app.auth_password", err)
			}
			c.pass = strings.TrimSpace(string(b))
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: insecure} //nolint:gosec // the operator's explicit --insecure
	c.http = &http.Client{Timeout: 60 * time.Second, Transport: tr}
	return c, nil
}

// call sends one request and decodes a JSON answer into out.
func (c *adminClient) call(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.user, c.pass)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return errors.New("the server refused the credentials (401)")
	}
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusServiceUnavailable {
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.Unmarshal(body, out)
}

// statusFlags defines `dadns status`.
func statusFlags(fl *flag.FlagSet) func(in *invocation) int {
	u, insecure := clientFlags(fl)
	return func(in *invocation) int {
		c := in.adminClient(*u, *insecure)
		if c == nil {
			return 1
		}
		var doc map[string]any
		if err := c.call(in.ctx, "GET", "/status", &doc); err != nil {
			fmt.Fprintf(in.stderr, "dadns: status: %v\n", err)
			return 1
		}
		enc := json.NewEncoder(in.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(doc)
		if doc["status"] != "ok" {
			return 3
		}
		return 0
	}
}

// adminClient builds the admin API client from the configuration; nil
// (after saying why) when it cannot.
func (in *invocation) adminClient(rawURL string, insecure bool) *adminClient {
	cfg := in.config()
	if cfg == nil {
		return nil
	}
	c, err := newAdminClient(cfg, rawURL, insecure)
	if err != nil {
		fmt.Fprintf(in.stderr, "dadns: %v\n", err)
		return nil
	}
	return c
}

const zonesHelp = `  list [--failing]     every zone (or those some backend fails to apply)
  show NAME            stored text, owner, version, per-backend state
  resync NAME | --all  apply the zone (or every zone) again on every backend
  delete NAME          an operator's delete, whoever owns the zone
`

// zonesFlags defines `dadns zones SUBCOMMAND`.
func zonesFlags(fl *flag.FlagSet) func(in *invocation) int {
	u, insecure := clientFlags(fl)
	failing := fl.Bool("failing", false, "list: only zones some backend fails to apply")
	all := fl.Bool("all", false, "resync: every zone")
	return func(in *invocation) int {
		sub, args := in.args[0], in.args[1:]
		var call func(ctx context.Context, c *adminClient) error
		switch {
		case sub == "list" && len(args) == 0 && !*all:
			call = func(ctx context.Context, c *adminClient) error { return zonesList(ctx, c, *failing, in.stdout) }
		case sub == "show" && len(args) == 1:
			call = func(ctx context.Context, c *adminClient) error { return zonesShow(ctx, c, args[0], in.stdout) }
		case sub == "resync" && *all && len(args) == 0:
			call = func(ctx context.Context, c *adminClient) error {
				return printCall(ctx, c, "POST", "/api/v1/resync", in.stdout)
			}
		case sub == "resync" && !*all && len(args) == 1:
			call = func(ctx context.Context, c *adminClient) error {
				return printCall(ctx, c, "POST", "/api/v1/zones/"+url.PathEscape(args[0])+"/resync", in.stdout)
			}
		case sub == "delete" && len(args) == 1:
			call = func(ctx context.Context, c *adminClient) error {
				return printCall(ctx, c, "DELETE", "/api/v1/zones/"+url.PathEscape(args[0]), in.stdout)
			}
		default:
			return in.usageError(fmt.Sprintf("bad use of zones %q", in.args))
		}
		c := in.adminClient(*u, *insecure)
		if c == nil {
			return 1
		}
		if err := call(in.ctx, c); err != nil {
			fmt.Fprintf(in.stderr, "dadns: zones %s: %v\n", sub, err)
			return 1
		}
		return 0
	}
}

func zonesList(ctx context.Context, c *adminClient, failing bool, out io.Writer) error {
	path := "/api/v1/zones"
	if failing {
		path += "?failing=1"
	}
	var zones []struct {
		Name      string   `json:"name"`
		OwnerHost string   `json:"owner_host"`
		OwnerUser string   `json:"owner_user"`
		Serial    uint32   `json:"serial"`
		Version   int64    `json:"version"`
		Failing   []string `json:"failing"`
	}
	if err := c.call(ctx, "GET", path, &zones); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ZONE\tSERIAL\tVERSION\tOWNER\tFAILING ON")
	for _, z := range zones {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s/%s\t%s\n", z.Name, z.Serial, z.Version, z.OwnerHost, z.OwnerUser, strings.Join(z.Failing, ","))
	}
	return tw.Flush()
}

func zonesShow(ctx context.Context, c *adminClient, name string, out io.Writer) error {
	var z struct {
		Name      string    `json:"name"`
		Hash      string    `json:"hash"`
		OwnerHost string    `json:"owner_host"`
		OwnerUser string    `json:"owner_user"`
		Canonical string    `json:"canonical"`
		Serial    uint32    `json:"serial"`
		Version   int64     `json:"version"`
		Updated   time.Time `json:"updated"`
		Backends  []struct {
			Backend        string `json:"backend"`
			State          string `json:"state"`
			LastError      string `json:"last_error"`
			AppliedVersion int64  `json:"applied_version"`
			DesiredVersion int64  `json:"desired_version"`
			Attempts       int    `json:"attempts"`
		} `json:"backends"`
	}
	if err := c.call(ctx, "GET", "/api/v1/zones/"+url.PathEscape(name), &z); err != nil {
		return err
	}
	fmt.Fprintf(out, "zone:    %s\nserial:  %d\nversion: %d\nowner:   %s (user %s)\nupdated: %s\nhash:    %s\n\n",
		z.Name, z.Serial, z.Version, z.OwnerHost, z.OwnerUser, z.Updated.Format(time.RFC3339), z.Hash)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BACKEND\tSTATE\tAPPLIED\tDESIRED\tATTEMPTS\tLAST ERROR")
	for _, b := range z.Backends {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", b.Backend, b.State, b.AppliedVersion, b.DesiredVersion, b.Attempts, b.LastError)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "\n%s", z.Canonical)
	return err
}

func printCall(ctx context.Context, c *adminClient, method, path string, out io.Writer) error {
	var res map[string]any
	if err := c.call(ctx, method, path, &res); err != nil {
		return err
	}
	b, _ := json.Marshal(res)
	_, err := fmt.Fprintln(out, string(b))
	return err
}
