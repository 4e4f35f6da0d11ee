package directadmin

import (
	"bytes"
	"context"
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

// parseOwners reads `example.com=user&...`, also newline-separated.
func parseOwners(body []byte) (map[string]string, error) {
	s := strings.Trim(strings.ReplaceAll(strings.TrimSpace(string(body)), "\n", "&"), "&")
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	v, err := url.ParseQuery(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnexpected, err)
	}
	for domain, users := range v {
		name := normName(domain)
		if name == "" || len(users) != 1 || users[0] == "" {
			return nil, fmt.Errorf("%w: owners entry %q=%q", ErrUnexpected, domain, users)
		}
		out[name] = strings.TrimSpace(users[0])
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
