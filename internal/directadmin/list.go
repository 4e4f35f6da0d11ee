package directadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// maxPages bounds the listing, against an answer claiming absurd totals.
const maxPages = 100_000

// ListZones returns every zone in the server's DNS (CMD_DNS_ADMIN, all
// pages), sorted and de-duplicated. It fails unless every page answered
// with the expected JSON and the same page count.
func (c *Client) ListZones(ctx context.Context) ([]string, error) {
	seen, err := c.ListZoneSet(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out, nil
}

// ListZoneSet is ListZones as a set, for callers that only look names up.
func (c *Client) ListZoneSet(ctx context.Context) (map[string]bool, error) {
	seen := map[string]bool{}
	total := 1
	for page := 1; page <= total; page++ {
		p, err := c.listPage(ctx, page)
		if err != nil {
			return nil, fmt.Errorf("directadmin: list zones %s: page %d: %w", c.opt.Host, page, err)
		}
		if page == 1 {
			total = p.totalPages
		} else if p.totalPages != total {
			return nil, fmt.Errorf("directadmin: list zones %s: page %d: %w: total_pages changed from %d to %d", c.opt.Host, page, ErrUnexpected, total, p.totalPages)
		}
		if len(p.domains) == 0 && total > 1 {
			return nil, fmt.Errorf("directadmin: list zones %s: page %d of %d: %w: no zones", c.opt.Host, page, total, ErrUnexpected)
		}
		for _, d := range p.domains {
			seen[d] = true
		}
	}
	return seen, nil
}

// page is one decoded listing page.
type page struct {
	domains    []string
	totalPages int
}

func (c *Client) listPage(ctx context.Context, n int) (page, error) {
	q := url.Values{"json": {"yes"}, "page": {strconv.Itoa(n)}, "ipp": {strconv.Itoa(c.opt.IPP)}}
	body, err := c.get(ctx, "/CMD_DNS_ADMIN", q)
	if err != nil {
		return page{}, err
	}
	return parsePage(body)
}

// parsePage decodes {"0": {"domain": ...}, ..., "info": {"total_pages": N}};
// numbers may arrive as JSON numbers or strings.
func parsePage(body []byte) (page, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return page{}, fmt.Errorf("%w: not a JSON object: %v", ErrUnexpected, err)
	}
	var p page
	var err error
	if p.totalPages, err = totalPages(obj["info"]); err != nil {
		return page{}, err
	}
	for key, raw := range obj {
		if !isIndex(key) {
			continue
		}
		d, err := entryDomain(raw)
		if err != nil {
			return page{}, fmt.Errorf("%w: entry %s: %v", ErrUnexpected, key, err)
		}
		p.domains = append(p.domains, d)
	}
	return p, nil
}

func isIndex(key string) bool {
	if key == "" {
		return false
	}
	for _, r := range key {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// entryDomain reads the domain of one numbered entry.
func entryDomain(raw json.RawMessage) (string, error) {
	var e map[string]json.RawMessage
	if err := json.Unmarshal(raw, &e); err != nil {
		return "", fmt.Errorf("not an object")
	}
	var d string
	if err := json.Unmarshal(e["domain"], &d); err != nil {
		return "", fmt.Errorf("no domain string")
	}
	if d = normName(d); d == "" {
		return "", fmt.Errorf("empty domain")
	}
	return d, nil
}

// totalPages reads info.total_pages, a number or a numeric string.
func totalPages(raw json.RawMessage) (int, error) {
	var info map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &info) != nil {
		return 0, fmt.Errorf("%w: no info object", ErrUnexpected)
	}
	n, err := flexInt(info["total_pages"])
	if err != nil || n < 1 || n > maxPages {
		return 0, fmt.Errorf("%w: info.total_pages %s", ErrUnexpected, string(info["total_pages"]))
	}
	return n, nil
}

// flexInt decodes 3, "3" or 3.0.
func flexInt(raw json.RawMessage) (int, error) {
	raw = bytes.TrimSpace(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = []byte(strings.TrimSpace(s))
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != float64(int(f)) {
		return 0, fmt.Errorf("not a whole number: %s", raw)
	}
	return int(f), nil
}
