package powerdns

import (
	"fmt"
	"slices"
	"strings"
)

// need is what one column must be.
type need struct {
	name   string
	kind   string // "integer" or "text"
	minLen int    // for text: characters it must hold at least
	autoID bool   // AUTO_INCREMENT
}

// needs are the columns dadns reads or writes, by table: PowerDNS reads
// more (master, notified_serial, ...), which a check of its own schema
// version is for, not dadns.
var needs = map[string][]need{
	"domains": {
		{name: "id", kind: "integer", autoID: true},
		{name: "name", kind: "text", minLen: 253},
		{name: "type", kind: "text", minLen: 6},
		{name: "account", kind: "text", minLen: 1},
	},
	"records": {
		{name: "id", kind: "integer", autoID: true},
		{name: "domain_id", kind: "integer"},
		{name: "name", kind: "text", minLen: 253},
		{name: "type", kind: "text", minLen: 5},
		{name: "content", kind: "text", minLen: 255},
		{name: "ttl", kind: "integer"},
		{name: "prio", kind: "integer"},
		{name: "disabled", kind: "integer"},
		{name: "ordername", kind: "text", minLen: 1},
		{name: "auth", kind: "integer"},
	},
	"domainmetadata": {{name: "domain_id", kind: "integer"}},
	"cryptokeys":     {{name: "domain_id", kind: "integer"}},
	"comments":       {{name: "domain_id", kind: "integer"}},
}

var (
	integerTypes = []string{"tinyint", "smallint", "mediumint", "int", "integer", "bigint"}
	textTypes    = []string{"char", "varchar", "tinytext", "text", "mediumtext", "longtext"}
)

// checkTable lists every way the columns differ from what is needed,
// including extra columns an INSERT naming only ours would fail on.
func checkTable(table string, cols map[string]column, needs []need) []string {
	if cols == nil {
		return []string{"table " + table + " is missing"}
	}
	var p []string
	known := map[string]bool{}
	for _, n := range needs {
		known[n.name] = true
		c, ok := cols[n.name]
		if !ok {
			p = append(p, fmt.Sprintf("%s.%s is missing", table, n.name))
			continue
		}
		if msg := checkColumn(n, c); msg != "" {
			p = append(p, fmt.Sprintf("%s.%s %s", table, n.name, msg))
		}
	}
	if table != "domains" && table != "records" {
		return p // dadns only deletes from the others
	}
	var extra []string
	for name := range cols {
		extra = append(extra, name)
	}
	slices.Sort(extra)
	for _, name := range extra {
		c := cols[name]
		if !known[name] && !c.nullable && !c.hasDefault && !strings.Contains(c.extra, "auto_increment") && !strings.Contains(c.extra, "generated") {
			p = append(p, fmt.Sprintf("%s.%s is NOT NULL without a default (dadns does not fill it)", table, name))
		}
	}
	return p
}

func checkColumn(n need, c column) string {
	switch {
	case n.kind == "integer" && !slices.Contains(integerTypes, c.dataType):
		return "is " + c.dataType + ", needs an integer type"
	case n.kind == "text" && !slices.Contains(textTypes, c.dataType):
		return "is " + c.dataType + ", needs a character type (VARCHAR or TEXT)"
	case n.kind == "text" && c.maxLen.Int64 < int64(n.minLen):
		return fmt.Sprintf("holds %d characters, needs at least %d", c.maxLen.Int64, n.minLen)
	case n.autoID && !strings.Contains(c.extra, "auto_increment"):
		return "is not AUTO_INCREMENT"
	}
	return ""
}

// checkEngines requires transactional tables: PowerDNS must see a zone's
// old rows or its new ones, never a mix, and replicas must apply whole
// transactions.
func checkEngines(engines map[string]string) []string {
	var p []string
	for _, t := range tables {
		if e, ok := engines[t]; ok && !strings.EqualFold(e, "InnoDB") {
			p = append(p, fmt.Sprintf("table %s uses engine %s; dadns needs InnoDB (transactions)", t, e))
		}
	}
	return p
}
