package zone

import (
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// wksGeneric encodes the RDATA of a WKS record (RFC 1035 §3.4.2: an IPv4
// address, a protocol, the services offered) into generic form, which the
// zone parser reads: it does not know WKS. Protocols and services are
// numbers, or names as named looks them up (tcp and udp; service names
// from the system's services database).
func wksGeneric(rd []token) (string, error) {
	if len(rd) < 2 {
		return "", errors.New("needs an address and a protocol")
	}
	addr, err := netip.ParseAddr(rd[0].text)
	if err != nil || !addr.Is4() {
		return "", errors.New("bad address " + quoteShort(rd[0].text, 40))
	}
	proto, pname, err := wksProtocol(rd[1].text)
	if err != nil {
		return "", err
	}
	var bitmap []byte
	for _, t := range rd[2:] {
		port, err := wksService(t.text, pname)
		if err != nil {
			return "", err
		}
		for len(bitmap) <= port/8 {
			bitmap = append(bitmap, 0)
		}
		bitmap[port/8] |= 0x80 >> (port % 8)
	}
	a := addr.As4()
	wire := append(append(a[:], proto), bitmap...)
	return `TYPE11 \# ` + strconv.Itoa(len(wire)) + " " + hex.EncodeToString(wire), nil
}

// wksProtocol reads a protocol number or the names tcp and udp.
func wksProtocol(s string) (byte, string, error) {
	switch strings.ToLower(s) {
	case "tcp", "6":
		return 6, "tcp", nil
	case "udp", "17":
		return 17, "udp", nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, "", errors.New("bad protocol " + quoteShort(s, 20) + " (a number, tcp or udp)")
	}
	return byte(n), "", nil
}

// wksService reads a port number or a service name of protocol pname.
func wksService(s, pname string) (int, error) {
	if n, err := strconv.ParseUint(s, 10, 16); err == nil {
		return int(n), nil
	}
	if pname != "" {
		if n, err := net.LookupPort(pname, strings.ToLower(s)); err == nil {
			return n, nil
		}
	}
	return 0, errors.New("unknown service " + quoteShort(s, 20))
}
