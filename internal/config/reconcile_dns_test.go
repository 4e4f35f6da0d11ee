package config

import (
	"fmt"
	"testing"
)

func TestReconcileSerialCheckKeys(t *testing.T) {
	const base = "reconciliation:\n  directadmin_servers:\n    - {hostname: da1.example.com, username: admin, password: x%s}\n"
	c := mustLoad(t, fmt.Sprintf(base, ""))
	if s := c.Reconciliation.DirectAdminServers[0]; s.SerialCheck != "" || s.DNSAddress != "" {
		t.Fatalf("defaults: %+v", s)
	}
	c = mustLoad(t, fmt.Sprintf(base, ", serial_check: http, dns_address: '192.0.2.1:5353'"))
	if s := c.Reconciliation.DirectAdminServers[0]; s.SerialCheck != SerialCheckHTTP || s.DNSAddress != "192.0.2.1:5353" {
		t.Fatalf("set: %+v", s)
	}
	c = mustLoad(t, fmt.Sprintf(base, ""), "DADNS_RECONCILIATION_DIRECTADMIN_SERVERS_0_DNS_ADDRESS=ns.da1.example.com:53",
		"DADNS_RECONCILIATION_DIRECTADMIN_SERVERS_0_SERIAL_CHECK=dns")
	if s := c.Reconciliation.DirectAdminServers[0]; s.SerialCheck != SerialCheckDNS || s.DNSAddress != "ns.da1.example.com:53" {
		t.Fatalf("from the environment: %+v", s)
	}
	_, err := loadYAML(t, fmt.Sprintf(base, ", serial_check: soa, dns_address: da1.example.com"))
	ps := problemsOf(t, err)
	if _, ok := findProblem(ps, "reconciliation.directadmin_servers.0.serial_check", "use dns"); !ok {
		t.Errorf("bad serial_check not reported: %v", ps)
	}
	if _, ok := findProblem(ps, "reconciliation.directadmin_servers.0.dns_address", "host:port"); !ok {
		t.Errorf("dns_address without a port not reported: %v", ps)
	}
}
