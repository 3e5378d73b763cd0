package places

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo"
)

// Priority is one of the Community Safety Partnership plan's five
// priorities (the priorities table).
type Priority struct {
	ID   int
	Slug string
	Name string
}

// The cross-cutting flags a category can carry besides its priority. The
// migration's CHECK on category_priorities.flags holds the same list.
const (
	FlagAlcohol     = "alcohol"     // alcohol-related
	FlagEnvironment = "environment" // fly-tipping, dog fouling, graffiti, abandoned vehicles
)

// Flags returns the known cross-cutting flags.
func Flags() []string { return []string{FlagAlcohol, FlagEnvironment} }

// Mapping says which priority a crime or incident category counts
// towards, and which cross-cutting themes.
type Mapping struct {
	Category string
	// Priority is 1 to 5, or 0 when the category counts towards no
	// priority (police.uk's other-crime, say) and only towards totals.
	Priority  int
	Flags     []string
	Note      string
	UpdatedAt time.Time
	UpdatedBy string
}

// HasFlag reports whether the mapping carries the flag.
func (m Mapping) HasFlag(f string) bool { return slices.Contains(m.Flags, f) }

// ErrBadMapping is returned for a mapping that cannot be stored: a
// priority outside 1..5, an unknown flag, a category that is not a slug.
var ErrBadMapping = errors.New("bad category mapping")

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ParseFlags reads a comma-separated list of flags ("alcohol,environment";
// "" or "none" for none), refusing unknown ones, and returns them sorted
// and without repeats.
func ParseFlags(s string) ([]string, error) {
	out := []string{}
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return out, nil
	}
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if !slices.Contains(Flags(), f) {
			return nil, fmt.Errorf("%w: unknown flag %q (known: %s)", ErrBadMapping, f, strings.Join(Flags(), ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out, nil
}

const (
	selectPriorities = `SELECT id, slug, name FROM priorities ORDER BY id`
	selectMappings   = `SELECT category, COALESCE(priority, 0), flags, note, updated_at, updated_by FROM category_priorities`
	upsertMapping    = `INSERT INTO category_priorities (category, priority, flags, note, updated_at, updated_by)
VALUES ($1, NULLIF($2::smallint, 0), $3, $4, now(), $5)
ON CONFLICT (category) DO UPDATE SET priority = EXCLUDED.priority, flags = EXCLUDED.flags, note = EXCLUDED.note,
	updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
RETURNING (xmax = 0)`
)

// Priorities returns the plan's priorities in order.
func Priorities(ctx context.Context, pool *pgxpool.Pool) ([]Priority, error) {
	rows, err := pool.Query(ctx, selectPriorities)
	if err != nil {
		return nil, fmt.Errorf("priorities: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Priority, error) {
		var p Priority
		err := row.Scan(&p.ID, &p.Slug, &p.Name)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("priorities: %w", err)
	}
	return ps, nil
}

// Mappings returns every category's mapping, ordered by priority (none
// last), then category.
func Mappings(ctx context.Context, pool *pgxpool.Pool) ([]Mapping, error) {
	rows, err := pool.Query(ctx, selectMappings+` ORDER BY priority NULLS LAST, category`)
	if err != nil {
		return nil, fmt.Errorf("category priorities: %w", err)
	}
	ms, err := pgx.CollectRows(rows, scanMapping)
	if err != nil {
		return nil, fmt.Errorf("category priorities: %w", err)
	}
	return ms, nil
}

// PriorityOf returns the mapping of one category (a police.uk or partner
// slug), or ErrNotFound when the category has none yet: callers counting
// by priority should count such a category as priority 0 and say so.
func PriorityOf(ctx context.Context, pool *pgxpool.Pool, category string) (Mapping, error) {
	rows, err := pool.Query(ctx, selectMappings+` WHERE category = $1`, category)
	if err != nil {
		return Mapping{}, fmt.Errorf("priority of %s: %w", category, err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, scanMapping)
	if errors.Is(err, pgx.ErrNoRows) {
		return Mapping{}, fmt.Errorf("category %q has no priority mapping: %w", category, ErrNotFound)
	}
	if err != nil {
		return Mapping{}, fmt.Errorf("priority of %s: %w", category, err)
	}
	return m, nil
}

func scanMapping(row pgx.CollectableRow) (Mapping, error) {
	var m Mapping
	err := row.Scan(&m.Category, &m.Priority, &m.Flags, &m.Note, &m.UpdatedAt, &m.UpdatedBy)
	return m, err
}

// SetMapping stores m (category, priority, flags and note; the rest is
// ignored) as actor, adding the category if it is new, and reports whether
// it was new.
func SetMapping(ctx context.Context, pool *pgxpool.Pool, m Mapping, actor string) (created bool, err error) {
	if !slugPattern.MatchString(m.Category) {
		return false, fmt.Errorf("%w: category %q is not a slug (lower-case words joined by '-', e.g. fly-tipping)", ErrBadMapping, m.Category)
	}
	if m.Priority < 0 || m.Priority > 5 {
		return false, fmt.Errorf("%w: priority %d; want 1 to 5, or none", ErrBadMapping, m.Priority)
	}
	flags, err := ParseFlags(strings.Join(m.Flags, ","))
	if err != nil {
		return false, err
	}
	if strings.TrimSpace(actor) == "" {
		return false, errors.New("set category priority: no actor")
	}
	if err := pool.QueryRow(ctx, upsertMapping, m.Category, m.Priority, flags, m.Note, actor).Scan(&created); err != nil {
		return false, fmt.Errorf("set priority of %s: %w", m.Category, err)
	}
	return created, nil
}

// PriorityCount is the number of incidents of one priority in a place and
// period, with how many of them carry each cross-cutting flag.
type PriorityCount struct {
	Priority    int // 0: no priority, or a category without a mapping
	Incidents   int
	Alcohol     int
	Environment int
}

// countByPriority counts the incidents inside the place's outline whose
// period starts in [From, To), by priority. Rows made by hotspot synth
// (source 'synth') are left out: these are counts for analysts, of real
// incidents.
const countByPriority = `SELECT COALESCE(cp.priority, 0), count(*),
	count(*) FILTER (WHERE 'alcohol' = ANY (cp.flags)),
	count(*) FILTER (WHERE 'environment' = ANY (cp.flags))
FROM places pl
JOIN incidents i ON ST_Intersects(pl.geom_bng, i.geom_bng)
LEFT JOIN category_priorities cp ON cp.category = i.category
WHERE pl.slug = $1 AND i.occurred_from >= $2 AND i.occurred_from < $3 AND i.source <> 'synth'
GROUP BY 1 ORDER BY 1 = 0, 1`

// CountByPriority counts the incidents inside a named place that occurred
// in the period, by plan priority (priority 0, for categories without one,
// last). Other packages that need priorities in their own SQL join
// category_priorities on incidents.category the same way.
func CountByPriority(ctx context.Context, pool *pgxpool.Pool, place string, p geo.Period) ([]PriorityCount, error) {
	if _, err := Get(ctx, pool, place); err != nil {
		return nil, err
	}
	rows, err := pool.Query(ctx, countByPriority, place, p.From, p.To)
	if err != nil {
		return nil, fmt.Errorf("count by priority in %s: %w", place, err)
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (PriorityCount, error) {
		var c PriorityCount
		err := row.Scan(&c.Priority, &c.Incidents, &c.Alcohol, &c.Environment)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("count by priority in %s: %w", place, err)
	}
	return cs, nil
}
