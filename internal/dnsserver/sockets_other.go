//go:build !linux

package dnsserver

import "syscall"

// reusePort does nothing where SO_REUSEPORT is not wired up: the extra UDP
// sockets then fail to bind and Listen reports it.
func reusePort(_, _ string, _ syscall.RawConn) error { return nil }

// noPMTUD does nothing where the options are not wired up.
func noPMTUD(_, _ string, _ syscall.RawConn) error { return nil }
