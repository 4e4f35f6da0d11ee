package zone

// checkApex requires exactly one SOA, at the apex, and an NS RRset there.
func (p *parser) checkApex(recs []rec) {
	apex := p.origin.FQDN()
	soaLine, soas, apexNS := 0, 0, 0
	for _, r := range recs {
		switch {
		case r.Type == "SOA" && r.Name != apex:
			p.problems.add(r.line, "SOA record at "+r.Name+": the SOA must be at the zone apex "+apex)
			soas++
		case r.Type == "SOA" && soas > 0:
			p.problems.add(r.line, "second SOA record (the first is at line "+itoa(soaLine)+")")
		case r.Type == "SOA":
			soaLine, soas = r.line, soas+1
		case r.Type == "NS" && r.Name == apex:
			apexNS++
		}
	}
	if soas == 0 && !p.brokenSOA {
		p.problems.add(0, "no SOA record")
	}
	if apexNS == 0 {
		p.problems.add(0, "no NS record at the zone apex")
	}
}

// owner sums up what one owner name holds, for the CNAME rules.
type owner struct {
	cname     int // line of the first CNAME
	cnames    int
	other     string // type of the first record that may not sit beside a CNAME
	otherLine int
}

// checkCNAMEs refuses a CNAME at the apex, more than one CNAME at a name and
// a CNAME beside other data (DNSSEC records excepted, RFC 4035 §2.5).
func (p *parser) checkCNAMEs(recs []rec) {
	apex := p.origin.FQDN()
	at := make(map[string]int, len(recs))
	var owners []owner
	var order []string
	for _, r := range recs {
		i, ok := at[r.Name]
		if !ok {
			i = len(owners)
			at[r.Name] = i
			owners = append(owners, owner{})
			order = append(order, r.Name)
		}
		p.noteCNAME(&owners[i], r, apex)
	}
	for i, name := range order {
		o := &owners[i]
		if o.cnames > 0 && o.other != "" && name != apex {
			p.problems.add(o.cname, "CNAME at "+name+" beside other data ("+o.other+" at line "+itoa(o.otherLine)+")")
		}
	}
}

func (p *parser) noteCNAME(o *owner, r rec, apex string) {
	switch r.Type {
	case "CNAME":
		switch {
		case r.Name == apex:
			p.problems.add(r.line, "CNAME at the zone apex "+apex+" is not allowed")
		case o.cnames > 0:
			p.problems.add(r.line, "second CNAME at "+r.Name+" (the first is at line "+itoa(o.cname)+")")
		default:
			o.cname = r.line
		}
		o.cnames++
	case "RRSIG", "NSEC", "NSEC3":
	default:
		if o.other == "" {
			o.other, o.otherLine = r.Type, r.line
		}
	}
}
