package tiles

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// priorityCache holds category_priorities as read at one data version
// (an edit there moves the version: see migrations' trigger).
type priorityCache struct {
	mu      sync.Mutex
	version int64
	byPrio  map[int][]string
}

const prioritiesSQL = `SELECT priority, category FROM category_priorities WHERE priority IS NOT NULL ORDER BY 1, 2`

// categories resolves f's priorities and categories to the list of
// category slugs a tile should count, or nil for all. Priorities come
// from category_priorities; with categories too, a slug must be in both.
// An empty, non-nil list matches nothing.
func (s *Server) categories(ctx context.Context, f Filter) ([]string, error) {
	if len(f.Priorities) == 0 {
		if len(f.Categories) == 0 {
			return nil, nil
		}
		return f.Categories, nil
	}
	v, err := s.versions.Current(ctx)
	if err != nil {
		return nil, err
	}
	s.prio.mu.Lock()
	defer s.prio.mu.Unlock()
	if s.prio.byPrio == nil || s.prio.version != v {
		rows, err := s.pool.Query(ctx, prioritiesSQL)
		if err != nil {
			return nil, fmt.Errorf("read priorities: %w", err)
		}
		m := map[int][]string{}
		for rows.Next() {
			var p int
			var c string
			if err := rows.Scan(&p, &c); err != nil {
				rows.Close()
				return nil, err
			}
			m[p] = append(m[p], c)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read priorities: %w", err)
		}
		s.prio.byPrio, s.prio.version = m, v
	}
	want := map[string]bool{}
	for _, c := range f.Categories {
		want[c] = true
	}
	out := []string{}
	for _, p := range f.Priorities {
		for _, c := range s.prio.byPrio[p] {
			if len(f.Categories) == 0 || want[c] {
				out = append(out, c)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
