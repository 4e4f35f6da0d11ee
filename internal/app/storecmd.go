package app

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/mysql"
	"github.com/dadns/dadns/internal/store/sqlite"
)

const storeHelp = `copy reads every zone (live and deleted, versions kept) from --from and
writes it into --to, which must hold no zone; backends then apply every zone
once from the new store. Stop dadns first. DSN is go-sql-driver syntax:
user:pass@tcp(host:3306)/dadns
`

// storeFlags defines `dadns store copy`.
func storeFlags(fl *flag.FlagSet) func(in *invocation) int {
	from := fl.String("from", "", "source store: sqlite:PATH or mysql:DSN")
	to := fl.String("to", "", "target store (empty): sqlite:PATH or mysql:DSN")
	return func(in *invocation) int {
		if in.args[0] != "copy" || *from == "" || *to == "" {
			return in.usageError("")
		}
		live, tombs, err := copyStores(in.ctx, *from, *to)
		if err != nil {
			fmt.Fprintf(in.stderr, "dadns: store copy: %v\n", err)
			return 1
		}
		fmt.Fprintf(in.stdout, "copied %d zones and %d deleted zones' tombstones from %s to %s\n", live, tombs, scheme(*from), scheme(*to))
		return 0
	}
}

func copyStores(ctx context.Context, from, to string) (int, int, error) {
	src, err := openURL(ctx, from)
	if err != nil {
		return 0, 0, fmt.Errorf("--from: %w", err)
	}
	defer src.Close()
	dst, err := openURL(ctx, to)
	if err != nil {
		return 0, 0, fmt.Errorf("--to: %w", err)
	}
	defer dst.Close()
	return store.Copy(ctx, src, dst)
}

// copyable is a store that can be copied.
type copyable interface {
	store.Store
	store.Copier
}

// openURL opens "sqlite:PATH" or "mysql:DSN".
func openURL(ctx context.Context, u string) (copyable, error) {
	kind, rest, _ := strings.Cut(u, ":")
	switch kind {
	case "sqlite":
		return sqlite.Open(ctx, rest, sqlite.Options{})
	case "mysql":
		return mysql.Open(ctx, rest, mysql.Options{})
	}
	return nil, fmt.Errorf("%q: want sqlite:PATH or mysql:DSN", scheme(u))
}

// scheme names a store argument without its path or credentials.
func scheme(u string) string {
	kind, _, _ := strings.Cut(u, ":")
	return kind
}
