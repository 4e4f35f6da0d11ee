package sqlite

import (
	"context"
	"strings"
	"testing"
)

// TestHotQueriesUseIndexes guards the cost of the worker's queries without
// timing them: no full scan of backend_state or zones.
func TestHotQueriesUseIndexes(t *testing.T) {
	s, _ := openTest(t)
	mustPut(t, s, "example.com", 1)
	mustDue(t, s, "bind", 1)
	queries := map[string][]any{
		dueQuery:         {"bind", 0, 10},
		nextAttemptQuery: {"bind", 0},
		retryNowQuery:    {0, "bind", 0},
		"UPDATE backend_state SET state = 'pending' WHERE zone = ?": {"example.com"},
		appliedBatchQuery(2): {"bind", 0, "example.com", 1, "h", nil, nil, nil},
		"SELECT * FROM backend_state WHERE zone = ? AND backend = ?": {"example.com", "bind"},
	}
	// The status queries read a backend's rows through the partial
	// indexes or by key, never its every row.
	for _, q := range []string{countAppliedQuery, countBehindQuery, oldestPendingQuery, pendingQuery} {
		queries[q] = []any{"bind"}
	}
	for q, args := range queries {
		plan := queryPlan(t, s, q, args)
		if strings.Contains(plan, "SCAN backend_state") || strings.Contains(plan, "SCAN z") ||
			!strings.Contains(plan, "USING") {
			t.Errorf("query plan scans a table:\n%s\nfor %s", plan, q)
		}
		// Retries are found through the partial index, not by walking the
		// backend's every row in its primary key.
		if strings.Contains(q, "next_attempt >") && !strings.Contains(plan, "backend_state_next") {
			t.Errorf("query plan scans a table:\n%s\nfor %s", plan, q)
		}
		// Pending work comes from its index alone (migration 007).
		if q == dueQuery && !strings.Contains(plan, "COVERING INDEX backend_state_pending") {
			t.Errorf("the work query reads the table for pending rows:\n%s", plan)
		}
	}
}

func queryPlan(t *testing.T, s *Store, q string, args []any) string {
	t.Helper()
	rows, err := s.db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}
