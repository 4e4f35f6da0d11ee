package zone

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
	"strconv"

	"github.com/miekg/dns"
)

// named reads an SVCB/HTTPS parameter written "keyN=value" as the raw
// value of key N, also for the keys that have a name (key3=... is port).
// The zone parser refuses keyN for those keys, so the rewrite renames them
// to a private-use key first (svcbStand + N) and fixSVCBKeys puts N back
// into the wire form, where the parser then checks the value as the
// named key's (a port must be two octets, and so on), as named does.
const svcbStand = 65400

// svcbNamedKeys is the highest key number the zone parser has a name for.
const svcbNamedKeys = 8

var svcbKeyRE = regexp.MustCompile(`^key([0-9]+)(=|$)`)

// svcbKeyEdits renames keyN of named keys to their stand-in.
func svcbKeyEdits(rd []token) []edit {
	if len(rd) < 3 {
		return nil
	}
	var out []edit
	for _, t := range rd[2:] {
		m := svcbKeyRE.FindStringSubmatch(t.text)
		if t.quoted || m == nil {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			continue
		}
		if n >= svcbStand && n <= svcbStand+svcbNamedKeys {
			return nil // a stand-in is used as such: leave the record to the parser
		}
		if n > svcbNamedKeys || m[1] != strconv.Itoa(n) {
			continue
		}
		out = append(out, edit{t.off0, t.off0 + 3 + len(m[1]), "key" + strconv.Itoa(svcbStand+n)})
	}
	return out
}

// fixSVCBKeys turns stand-in keys back into the keys written. It returns
// rr itself when there is nothing to fix.
func fixSVCBKeys(rr dns.RR) (dns.RR, error) {
	var params []dns.SVCBKeyValue
	switch r := rr.(type) {
	case *dns.SVCB:
		params = r.Value
	case *dns.HTTPS:
		params = r.Value
	default:
		return rr, nil
	}
	if !slices.ContainsFunc(params, isStandIn) {
		return rr, nil
	}
	var g dns.RFC3597
	if err := g.ToRFC3597(rr); err != nil {
		return nil, err
	}
	rdata, err := hex.DecodeString(g.Rdata)
	if err != nil {
		return nil, err
	}
	fixed, err := renumberSVCB(rdata)
	if err != nil {
		return nil, err
	}
	g.Rdata = hex.EncodeToString(fixed)
	buf := make([]byte, 0xffff+512)
	n, err := dns.PackRR(&g, buf, 0, nil, false)
	if err != nil {
		return nil, err
	}
	out, _, err := dns.UnpackRR(buf[:n], 0)
	if err != nil {
		return nil, errors.New("a keyN value is not valid for that key: " + err.Error())
	}
	return out, nil
}

func isStandIn(kv dns.SVCBKeyValue) bool {
	k := int(kv.Key())
	return k >= svcbStand && k <= svcbStand+svcbNamedKeys
}

// renumberSVCB rewrites the parameters of an SVCB RDATA (priority,
// uncompressed target, then key/length/value) with stand-in keys put back,
// sorted by key as the wire form requires.
func renumberSVCB(rdata []byte) ([]byte, error) {
	off := 2
	for off < len(rdata) && rdata[off] != 0 {
		off += int(rdata[off]) + 1
	}
	off++
	if off > len(rdata) {
		return nil, errors.New("bad target")
	}
	type param struct {
		key uint16
		val []byte
	}
	var ps []param
	for p := off; p < len(rdata); {
		if p+4 > len(rdata) {
			return nil, errors.New("bad parameter")
		}
		k, l := binary.BigEndian.Uint16(rdata[p:]), int(binary.BigEndian.Uint16(rdata[p+2:]))
		if p+4+l > len(rdata) {
			return nil, errors.New("bad parameter")
		}
		if int(k) >= svcbStand && int(k) <= svcbStand+svcbNamedKeys {
			k -= svcbStand
		}
		ps = append(ps, param{k, rdata[p+4 : p+4+l]})
		p += 4 + l
	}
	slices.SortStableFunc(ps, func(a, b param) int { return int(a.key) - int(b.key) })
	out := slices.Clone(rdata[:off])
	for i, p := range ps {
		if i > 0 && ps[i-1].key == p.key {
			return nil, errors.New("key" + strconv.Itoa(int(p.key)) + " given twice")
		}
		out = binary.BigEndian.AppendUint16(out, p.key)
		out = binary.BigEndian.AppendUint16(out, uint16(len(p.val)))
		out = append(out, p.val...)
	}
	return out, nil
}
