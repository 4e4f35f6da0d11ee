package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/store"
)

const nodeHelp = `  list                 the nodes sharing the configured MariaDB/Galera store
  forget NAME          remove a dead node: its row, its local backends' state,
                       and its claims on shared work and its leases, released
                       at once instead of at expiry. A node seen in the last
                       30 s is refused unless --force (a live node forgotten
                       comes back at its next heartbeat and applies every
                       zone again; shared work it is applying may be taken
                       by another node meanwhile).
These commands talk to the database (datastore.* of the configuration), not
to a running dadns, so they work from any node, with or without dadns up.
`

// nodeFlags defines `dadns node list|forget NAME`.
func nodeFlags(fl *flag.FlagSet) func(in *invocation) int {
	force := fl.Bool("force", false, "forget: also a node that is alive")
	return func(in *invocation) int {
		sub, args := in.args[0], in.args[1:]
		switch {
		case sub == "list" && len(args) == 0:
		case sub == "forget" && len(args) == 1 && args[0] != "":
		default:
			return in.usageError(fmt.Sprintf("bad use of node %q", in.args))
		}
		cfg := in.config()
		if cfg == nil {
			return 1
		}
		err := withCluster(in.ctx, cfg, func(c store.Cluster) error {
			if sub == "list" {
				return nodeList(in.ctx, c, nodeID(cfg), in.stdout)
			}
			return nodeForget(in.ctx, c, args[0], *force, in.stdout)
		})
		if err != nil {
			fmt.Fprintf(in.stderr, "dadns: node %s: %v\n", sub, err)
			return 1
		}
		return 0
	}
}

// withCluster opens the configured shared store for fn.
func withCluster(ctx context.Context, cfg *config.Config, fn func(store.Cluster) error) error {
	if !cfg.Datastore.IsMySQL() {
		return errors.New("datastore.type is sqlite: one node, no cluster")
	}
	st, err := openMySQL(ctx, cfg.Datastore)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

func nodeList(ctx context.Context, c store.Cluster, self string, out io.Writer) error {
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return err
	}
	now := storeNow(c)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATE\tLAST SEEN\tVERSION\tADDRESS")
	for _, n := range nodes {
		name := n.ID
		if n.ID == self {
			name += " (this host)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s ago\t%s\t%s\n", name, nodeState(n, now), now.Sub(n.LastSeen).Round(time.Second), n.Version, n.Addr)
	}
	return tw.Flush()
}

func nodeState(n store.Node, now time.Time) string {
	if n.Alive(now, nodeDeadAfter) {
		return "alive"
	}
	return "dead"
}

func nodeForget(ctx context.Context, c store.Cluster, id string, force bool, out io.Writer) error {
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return err
	}
	now := storeNow(c)
	for _, n := range nodes {
		if n.ID == id && n.Alive(now, nodeDeadAfter) && !force {
			return fmt.Errorf("node %s is alive (last seen %s ago): stop it first, or use --force",
				id, now.Sub(n.LastSeen).Round(time.Second))
		}
	}
	f, err := c.ForgetNode(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("the store knows no node %q", id)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "forgot node %s: %d local backends (%d zone states) dropped, %d claims and %d leases released\n",
		id, f.Backends, f.States, f.Claims, f.Leases)
	return err
}
