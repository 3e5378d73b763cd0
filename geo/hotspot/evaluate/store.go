package evaluate

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/harborough-csp/hotspot/geo"
	"github.com/harborough-csp/hotspot/geo/hotspot"
)

// Options say what to score.
type Options struct {
	Place       string     // a named place's slug (table places)
	Train, Test geo.Period // incidents with occurred_from in [From, To)
	AreaShare   float64    // share of the study area each method may pick, (0, 0.5]
	// Priority limits the scorecard to one plan priority (1–5) and all;
	// 0 gives every priority and all.
	Priority int
	// CellSize overrides the hexagon size rule (metres); 0 uses
	// hotspot.CellSize on the training incidents.
	CellSize float64
}

// Report is the scorecard with what produced it.
type Report struct {
	Options
	PlaceAreaM2 float64
	Grid        hotspot.Grid
	StudyCells  int
	Budget      int // cells each method may pick
	Train, Test int // incidents of all priorities in the place
	Rows        []Row
}

// Errors of Run.
var (
	ErrUnknownPlace = errors.New("unknown place")
	ErrBadOptions   = errors.New("bad scorecard options")
)

const selectPlace = `SELECT ST_AsBinary(geom_bng), ST_Area(geom_bng) FROM places WHERE slug = $1`

// Real incidents with a location in the place, with their category's
// priority (0 for none). geom_bng is written with every incident (0001).
const selectIncidents = `
SELECT ST_X(i.geom_bng), ST_Y(i.geom_bng), COALESCE(cp.priority, 0)
FROM incidents i
JOIN places p ON p.slug = $1 AND ST_Covers(p.geom_bng, i.geom_bng)
LEFT JOIN category_priorities cp ON cp.category = i.category
WHERE NOT i.synthetic AND i.occurred_from >= $2 AND i.occurred_from < $3
ORDER BY i.id`

// Check validates the options.
func (o Options) Check() error {
	switch {
	case o.Place == "":
		return fmt.Errorf("%w: no place", ErrBadOptions)
	case !o.Train.To.After(o.Train.From) || !o.Test.To.After(o.Test.From):
		return fmt.Errorf("%w: empty training or test period", ErrBadOptions)
	case o.Train.From.Before(o.Test.To) && o.Test.From.Before(o.Train.To):
		return fmt.Errorf("%w: the training and test periods overlap", ErrBadOptions)
	case !(o.AreaShare > 0 && o.AreaShare <= 0.5):
		return fmt.Errorf("%w: area share must be above 0 and at most 0.5", ErrBadOptions)
	case o.Priority < 0 || o.Priority > 5:
		return fmt.Errorf("%w: priority must be 1 to 5 (or 0 for all)", ErrBadOptions)
	case o.CellSize != 0 && (o.CellSize < hotspot.MinCellSize || o.CellSize > 5000):
		return fmt.Errorf("%w: cell size must be %g to 5000 m", ErrBadOptions, hotspot.MinCellSize)
	}
	return nil
}

// Run reads the place and its real incidents of both periods and scores
// every method.
func Run(ctx context.Context, pool *pgxpool.Pool, o Options) (*Report, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	var b []byte
	r := &Report{Options: o}
	err := pool.QueryRow(ctx, selectPlace, o.Place).Scan(&b, &r.PlaceAreaM2)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q (see hotspot places list; hotspot places build makes them)", ErrUnknownPlace, o.Place)
	}
	if err != nil {
		return nil, fmt.Errorf("read place %s: %w", o.Place, err)
	}
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("read place %s: %w", o.Place, err)
	}
	area, ok := g.(orb.MultiPolygon)
	if !ok {
		return nil, fmt.Errorf("read place %s: a %s, not a multipolygon", o.Place, g.GeoJSONType())
	}
	train, err := load(ctx, pool, o.Place, o.Train)
	if err != nil {
		return nil, err
	}
	test, err := load(ctx, pool, o.Place, o.Test)
	if err != nil {
		return nil, err
	}
	r.Train, r.Test = len(train), len(test)
	size := o.CellSize
	if size == 0 {
		size = hotspot.CellSize(r.PlaceAreaM2, len(train))
	}
	r.Grid = hotspot.Grid{Size: size}
	s := NewStudy(r.Grid, area, train, test)
	r.StudyCells, r.Budget = len(s.Cells), s.Budget(o.AreaShare)
	prios := []int{0, 1, 2, 3, 4, 5}
	if o.Priority != 0 {
		prios = []int{0, o.Priority}
	}
	if r.Rows, err = Scorecard(s, train, test, prios, o.AreaShare); err != nil {
		return nil, err
	}
	return r, nil
}

func load(ctx context.Context, pool *pgxpool.Pool, place string, p geo.Period) ([]Incident, error) {
	rows, err := pool.Query(ctx, selectIncidents, place, p.From, p.To)
	if err != nil {
		return nil, fmt.Errorf("read incidents: %w", err)
	}
	incs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Incident, error) {
		var in Incident
		var prio int16
		err := row.Scan(&in.X, &in.Y, &prio)
		in.Priority = int(prio)
		return in, err
	})
	if err != nil {
		return nil, fmt.Errorf("read incidents: %w", err)
	}
	return incs, nil
}
