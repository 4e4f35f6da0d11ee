package zone

import "github.com/miekg/dns"

// lowerNames lower-cases the owner and the domain names inside the RDATA of
// the types RFC 4034 §6.2 lists, so that equal records print equally.
func lowerNames(rr dns.RR) {
	h := rr.Header()
	h.Name = asciiLower(h.Name)
	switch r := rr.(type) {
	case *dns.NS:
		r.Ns = asciiLower(r.Ns)
	case *dns.CNAME:
		r.Target = asciiLower(r.Target)
	case *dns.SOA:
		r.Ns, r.Mbox = asciiLower(r.Ns), asciiLower(r.Mbox)
	case *dns.MX:
		r.Mx = asciiLower(r.Mx)
	case *dns.PTR:
		r.Ptr = asciiLower(r.Ptr)
	case *dns.SRV:
		r.Target = asciiLower(r.Target)
	case *dns.DNAME:
		r.Target = asciiLower(r.Target)
	case *dns.NAPTR:
		r.Replacement = asciiLower(r.Replacement)
	case *dns.KX:
		r.Exchanger = asciiLower(r.Exchanger)
	case *dns.RP:
		r.Mbox, r.Txt = asciiLower(r.Mbox), asciiLower(r.Txt)
	case *dns.AFSDB:
		r.Hostname = asciiLower(r.Hostname)
	case *dns.RT:
		r.Host = asciiLower(r.Host)
	case *dns.PX:
		r.Map822, r.Mapx400 = asciiLower(r.Map822), asciiLower(r.Mapx400)
	default:
		lowerMoreNames(rr)
	}
}

// lowerMoreNames handles the rarer types of the RFC 4034 §6.2 list.
func lowerMoreNames(rr dns.RR) {
	switch r := rr.(type) {
	case *dns.RRSIG:
		r.SignerName = asciiLower(r.SignerName)
	case *dns.SIG:
		r.SignerName = asciiLower(r.SignerName)
	case *dns.NSEC:
		r.NextDomain = asciiLower(r.NextDomain)
	case *dns.NXT:
		r.NextDomain = asciiLower(r.NextDomain)
	case *dns.MINFO:
		r.Rmail, r.Email = asciiLower(r.Rmail), asciiLower(r.Email)
	case *dns.MB:
		r.Mb = asciiLower(r.Mb)
	case *dns.MG:
		r.Mg = asciiLower(r.Mg)
	case *dns.MR:
		r.Mr = asciiLower(r.Mr)
	case *dns.MD:
		r.Md = asciiLower(r.Md)
	case *dns.MF:
		r.Mf = asciiLower(r.Mf)
	}
}

// asciiLower folds A-Z only: names may hold other bytes, which must stay as
// they are (strings.ToLower would rewrite invalid UTF-8).
func asciiLower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if b[i] >= 'A' && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}
