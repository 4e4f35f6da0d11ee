// Command coredns is CoreDNS with only the plugins the coredns_mysql
// topology uses, among them the mysql plugin of
// cybercinch/coredns_mysql_extend, which reads the rows dadns writes.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/header"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/cybercinch/coredns_mysql_extend"
)

// directives is the order queries pass the plugins in, whatever the order
// in the Corefile: header must wrap mysql to set the AA flag on its answers.
var directives = []string{
	"reload", "bind", "ready", "health", "prometheus", "errors", "log", "header", "mysql",
}

func init() { dnsserver.Directives = directives }

func main() { coremain.Run() }
