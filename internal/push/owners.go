package push

import "strings"

// Owners compares DA server identities case-insensitively, through the
// operator's aliases (an IP and an FQDN for the same server).
type Owners map[string]string

// NewOwners builds the comparer from hostname → aliases.
func NewOwners(aliases map[string][]string) Owners {
	o := Owners{}
	for host, as := range aliases {
		canon := strings.ToLower(strings.TrimSuffix(host, "."))
		for _, a := range as {
			o[strings.ToLower(strings.TrimSuffix(a, "."))] = canon
		}
	}
	return o
}

// Canon returns the identity h stands for.
func (o Owners) Canon(h string) string {
	h = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
	if c, ok := o[h]; ok {
		return c
	}
	return h
}

// Same reports whether a and b name the same DA server.
func (o Owners) Same(a, b string) bool { return o.Canon(a) == o.Canon(b) }
