package nsdtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// File names of the remote-control keys, as nsd-control-setup names them.
const (
	ServerKeyFile   = "nsd_server.key"
	ServerCertFile  = "nsd_server.pem"
	ControlKeyFile  = "nsd_control.key"
	ControlCertFile = "nsd_control.pem"
)

// SetupPath is nsd-control-setup, which makes the keys an operator uses.
const SetupPath = "/usr/sbin/nsd-control-setup"

// MakeKeys writes a fresh set of remote-control keys into dir, laid out
// as nsd-control-setup lays them out (a self-signed server certificate
// "nsd" that may sign, and a client certificate "nsd-control" it signed),
// with ECDSA P-256 keys, which take milliseconds rather than RSA 3072's
// seconds.
func MakeKeys(dir string) error {
	serverKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	controlKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now().Add(-time.Hour)
	server := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "nsd"}, DNSNames: []string{"nsd"},
		NotBefore: now, NotAfter: now.AddDate(1, 0, 0),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	serverDER, err := x509.CreateCertificate(rand.Reader, server, server, &serverKey.PublicKey, serverKey)
	if err != nil {
		return err
	}
	if server, err = x509.ParseCertificate(serverDER); err != nil {
		return err
	}
	control := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "nsd-control"}, DNSNames: []string{"nsd-control"},
		NotBefore: now, NotAfter: now.AddDate(1, 0, 0), BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	controlDER, err := x509.CreateCertificate(rand.Reader, control, server, &controlKey.PublicKey, serverKey)
	if err != nil {
		return err
	}
	for name, block := range map[string]*pem.Block{
		ServerCertFile:  {Type: "CERTIFICATE", Bytes: serverDER},
		ControlCertFile: {Type: "CERTIFICATE", Bytes: controlDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o640); err != nil {
			return err
		}
	}
	for name, key := range map[string]*ecdsa.PrivateKey{ServerKeyFile: serverKey, ControlKeyFile: controlKey} {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err)
	}
	return n
}

// SetupKeys makes the keys with nsd-control-setup -d dir (RSA 3072, as an
// operator's; it needs openssl and takes a few seconds).
func SetupKeys(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, SetupPath, "-d", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("nsd-control-setup: %w: %s", err, out)
	}
	return nil
}
