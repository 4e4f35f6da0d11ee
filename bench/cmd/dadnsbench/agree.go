package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// agreeSample is how many queries of the query file every server is asked
// before its QPS is measured: a server answering differently would make
// its QPS meaningless.
const agreeSample = 500

// disagreement counts, for one server, the sampled replies that differ
// from the reference server's.
type disagreement struct {
	server   string
	asked    int
	differ   int
	examples []string
}

// compareAnswers asks ref and each of others the same sample of qs and
// counts the replies that differ (rcode, AA, or the answer records).
func compareAnswers(ctx context.Context, ref *target, others []*target, qs []query) ([]disagreement, error) {
	sample := sampleQueries(qs, agreeSample)
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	want := make([]string, len(sample))
	for i, q := range sample {
		k, err := askKey(ctx, c, ref.addr, q)
		if err != nil {
			return nil, fmt.Errorf("dadnsbench: compare answers: %s: %w", ref.name, err)
		}
		want[i] = k
	}
	var out []disagreement
	for _, t := range others {
		d := disagreement{server: t.name, asked: len(sample)}
		for i, q := range sample {
			got, err := askKey(ctx, c, t.addr, q)
			if err != nil {
				got = "error: " + err.Error()
			}
			if got != want[i] {
				d.differ++
				if len(d.examples) < 3 {
					d.examples = append(d.examples, fmt.Sprintf("%s %s: %s says {%s}, %s says {%s}", q.name, q.qtype, ref.name, want[i], t.name, got))
				}
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// sampleQueries takes n queries spread evenly over qs.
func sampleQueries(qs []query, n int) []query {
	if len(qs) <= n {
		return qs
	}
	out := make([]query, 0, n)
	for i := range n {
		out = append(out, qs[i*len(qs)/n])
	}
	return out
}

// askKey asks addr q and summarises the reply.
func askKey(ctx context.Context, c *dns.Client, addr string, q query) (string, error) {
	m := new(dns.Msg)
	m.SetQuestion(q.name, dns.StringToType[q.qtype])
	m.RecursionDesired = false
	r, _, err := c.ExchangeContext(ctx, m, addr)
	if err != nil {
		return "", err
	}
	return replyKey(r), nil
}

// replyKey is a reply's rcode, AA and TC flags and sorted answer records.
func replyKey(r *dns.Msg) string {
	rrs := make([]string, len(r.Answer))
	for i, rr := range r.Answer {
		rrs[i] = strings.ReplaceAll(rr.String(), "\t", " ")
	}
	slices.Sort(rrs)
	return fmt.Sprintf("%s aa=%t tc=%t [%s]", dns.RcodeToString[r.Rcode], r.Authoritative, r.Truncated, strings.Join(rrs, "; "))
}
