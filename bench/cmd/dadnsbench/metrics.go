package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
)

// rrlCount is the builtin's RRL counters (dadns_dns_rrl_responses_total).
type rrlCount struct {
	limited, slipped, dropped int64
}

// rrlCounters reads s's RRL counters from /metrics; zero counters when s
// is nil.
func rrlCounters(ctx context.Context, s *dadnsServer) (rrlCount, error) {
	var c rrlCount
	if s == nil {
		return c, nil
	}
	m, err := s.da.metrics(ctx)
	if err != nil {
		return c, err
	}
	for k, v := range m {
		if !strings.HasPrefix(k, "dadns_dns_rrl_responses_total{") {
			continue
		}
		switch {
		case strings.Contains(k, `action="limited"`):
			c.limited += int64(v)
		case strings.Contains(k, `action="slipped"`):
			c.slipped += int64(v)
		case strings.Contains(k, `action="dropped"`):
			c.dropped += int64(v)
		}
	}
	return c, nil
}

// goroutines reads go_goroutines from s's /metrics.
func goroutines(ctx context.Context, s *dadnsServer) (int, error) {
	m, err := s.da.metrics(ctx)
	if err != nil {
		return 0, err
	}
	v, ok := m["go_goroutines"]
	if !ok {
		return 0, fmt.Errorf("dadnsbench: no go_goroutines in /metrics")
	}
	return int(v), nil
}

// metrics fetches GET /metrics (Prometheus text) and returns each sample
// by its name with labels.
func (c *daClient) metrics(ctx context.Context) (map[string]float64, error) {
	code, body, err := c.doLimit(ctx, "GET", "/metrics", "", 8<<20)
	if err != nil {
		return nil, fmt.Errorf("dadnsbench: metrics: %w", err)
	}
	if code != 200 {
		return nil, fmt.Errorf("dadnsbench: metrics: HTTP %d: %.300s", code, body)
	}
	return parseMetrics(body), nil
}

// parseMetrics reads Prometheus's text format: "name{labels} value".
func parseMetrics(text string) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out
}
