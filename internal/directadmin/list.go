package directadmin

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// listParallel bounds the listing pages asked at once (after the first,
// which gives the page count): 100 pages at 100,000 zones.
const listParallel = 4

// ListZoneSet is ListZones as a set, for callers that only look names up.
func (c *Client) ListZoneSet(ctx context.Context) (map[string]bool, error) {
	first, err := c.listPage(ctx, 1)
	if err != nil {
		return nil, fmt.Errorf("directadmin: list zones %s: page 1: %w", c.opt.Host, err)
	}
	total := first.totalPages
	pages := make([]page, total)
	pages[0] = first
	errs := make([]error, total)
	next := atomic.Int64{}
	next.Store(2)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range min(listParallel, total-1) {
		wg.Go(func() {
			for n := int(next.Add(1) - 1); n <= total && ctx.Err() == nil; n = int(next.Add(1) - 1) {
				if pages[n-1], errs[n-1] = c.checkedPage(ctx, n, total); errs[n-1] != nil {
					cancel() // one bad page makes the listing unknown: stop asking
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("directadmin: list zones %s: %w", c.opt.Host, firstErr(errs))
	}
	seen := map[string]bool{}
	for _, p := range pages {
		for _, d := range p.domains {
			seen[d] = true
		}
	}
	return seen, nil
}

// firstErr returns the error of the lowest page that failed, passing over
// the pages cancelled because another failed.
func firstErr(errs []error) error {
	var cancelled error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			cancelled = cmp.Or(cancelled, err)
		default:
			return err
		}
	}
	return cancelled
}

// checkedPage reads page n of total and checks it agrees with the first.
func (c *Client) checkedPage(ctx context.Context, n, total int) (page, error) {
	p, err := c.listPage(ctx, n)
	switch {
	case err != nil:
		return page{}, fmt.Errorf("page %d: %w", n, err)
	case p.totalPages != total:
		return page{}, fmt.Errorf("page %d: %w: total_pages changed from %d to %d", n, ErrUnexpected, total, p.totalPages)
	case len(p.domains) == 0:
		return page{}, fmt.Errorf("page %d of %d: %w: no zones", n, total, ErrUnexpected)
	}
	return p, nil
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
