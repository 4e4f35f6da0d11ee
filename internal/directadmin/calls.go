package directadmin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// LoginTest checks the credentials with CMD_API_LOGIN_TEST.
func (c *Client) LoginTest(ctx context.Context) error {
	body, err := c.get(ctx, "/CMD_API_LOGIN_TEST", nil)
	if err != nil {
		return fmt.Errorf("directadmin: login test %s: %w", c.opt.Host, err)
	}
	v, err := url.ParseQuery(strings.TrimSpace(string(body)))
	if err != nil || v.Get("error") != "0" {
		return fmt.Errorf("directadmin: login test %s: %w: %q", c.opt.Host, ErrUnexpected, shorten(body))
	}
	return nil
}

// DomainOwners returns the domains local to the server and the DA user
// owning each (CMD_API_DOMAIN_OWNERS), keyed by lower-case name.
func (c *Client) DomainOwners(ctx context.Context) (map[string]string, error) {
	body, err := c.get(ctx, "/CMD_API_DOMAIN_OWNERS", nil)
	if err != nil {
		return nil, fmt.Errorf("directadmin: domain owners %s: %w", c.opt.Host, err)
	}
	owners, err := parseOwners(body)
	if err != nil {
		return nil, fmt.Errorf("directadmin: domain owners %s: %w", c.opt.Host, err)
	}
	return owners, nil
}

// parseOwners reads `example.com=user&...`, also newline-separated. It
// splits the pairs itself: url.ParseQuery refuses more than 10,000
// parameters (Go's urlmaxqueryparams), and a DA server may own far more
// domains.
func parseOwners(body []byte) (map[string]string, error) {
	out := map[string]string{}
	for pair := range strings.FieldsFuncSeq(string(body), func(r rune) bool { return r == '&' || r == '\n' || r == '\r' }) {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		domain, err1 := url.QueryUnescape(k)
		user, err2 := url.QueryUnescape(v)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%w: owners entry %q: %v", ErrUnexpected, pair, err)
		}
		name, user := normName(domain), strings.TrimSpace(user)
		if name == "" || user == "" {
			return nil, fmt.Errorf("%w: owners entry %q", ErrUnexpected, pair)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%w: owners entry %q: %s listed twice", ErrUnexpected, pair, name)
		}
		out[name] = user
	}
	return out, nil
}

// ZoneText returns the raw zone file DA holds for zone.
func (c *Client) ZoneText(ctx context.Context, zone string) ([]byte, error) {
	body, err := c.get(ctx, "/CMD_API_DNS_ADMIN", url.Values{"domain": {zone}})
	if err != nil {
		return nil, fmt.Errorf("directadmin: zone text %s from %s: %w", zone, c.opt.Host, err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("directadmin: zone text %s from %s: %w: empty", zone, c.opt.Host, ErrUnexpected)
	}
	return body, nil
}

// normName lower-cases a domain and drops the trailing dot and spaces.
func normName(s string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
}

// shorten quotes at most 200 bytes of an answer for an error message.
func shorten(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
