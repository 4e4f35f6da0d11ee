package config

import (
	"strings"
	"testing"
)

func TestOperatingKeys(t *testing.T) {
	c := Default()
	if len(c.App.TrustedProxies) != 2 {
		t.Fatalf("default trusted proxies %v", c.App.TrustedProxies)
	}
	c.App.AdminUsername = "ops"
	c.App.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.7", "not-an-ip"}
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid operating keys accepted")
	}
	for _, want := range []string{"app.admin_username", `"not-an-ip"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s: %v", want, err)
		}
	}
	p, err := ParseProxy("192.0.2.7")
	if err != nil || p.Bits() != 32 {
		t.Fatalf("single address: %v %v", p, err)
	}
}
