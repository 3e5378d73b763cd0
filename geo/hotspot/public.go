package hotspot

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/wkb"
)

// publicMethod is the public cells' rule in words, stored in
// open.hotspot_meta.
const publicMethod = "Getis-Ord Gi* on hexagon cells (edge length by the cell-size rule, from the public data's own counts), " +
	"one-ring distance band, Benjamini-Hochberg false discovery rate at 90/95/99%, computed only from the anonymised public " +
	"data (open.crimes at open.map_points: non-sensitive categories, months, map points standing for at least eight " +
	"addresses). Only hot cells significant at 90% or more are published; a count from 1 to min_count-1 is withheld."

// publicSQL reads the anonymised data only: the public cells must not be
// derived from a precise location or a sensitive category, so they start
// from what the public already has (open.crimes at their map points).
const publicSQL = `SELECT pl.slug, ST_X(mp.geom_bng), ST_Y(mp.geom_bng), c.category, c.month
FROM places pl
JOIN open.map_points mp ON ST_Intersects(pl.geom_bng, mp.geom_bng)
JOIN open.crimes c ON c.map_point_id = mp.id
WHERE c.month >= $1 AND c.month < $2`

const publicLatestSQL = `SELECT max(month) FROM open.crimes`

const clearPublicSQL = `DELETE FROM open.hotspot_cells; DELETE FROM open.hotspot_meta`

const insertPublicSQL = `INSERT INTO open.hotspot_cells (place, priority, time_window, month_from, month_to, confidence, count, suppressed, geom, geom_web)
SELECT v.place, v.priority, v.time_window, v.month_from, v.month_to, v.confidence, v.count, v.count IS NULL, ST_Transform(g.g, 4326), ST_Transform(g.g, 3857)
FROM unnest($1::text[], $2::smallint[], $3::text[], $4::date[], $5::date[], $6::smallint[], $7::integer[], $8::bytea[])
	AS v(place, priority, time_window, month_from, month_to, confidence, count, wkb)
CROSS JOIN LATERAL (SELECT ST_GeomFromWKB(v.wkb, 27700) AS g) g`

const insertPublicMetaSQL = `INSERT INTO open.hotspot_meta (built_at, latest_month, min_count, method) VALUES (now(), $1, $2, $3)`

// PublicCell is one published hot cell.
type PublicCell struct {
	Place      string
	Priority   int
	Window     string
	From, To   time.Time
	Confidence int
	Count      *int // nil when withheld
	Cell       Cell
	Grid       Grid
}

// rebuildPublic replaces open.hotspot_cells, inside the rebuild's
// transaction, from open.crimes (rebuilt by geo/anon before us).
func rebuildPublic(ctx context.Context, tx pgx.Tx, opts Options, sum *Summary) error {
	if _, err := tx.Exec(ctx, clearPublicSQL); err != nil {
		return fmt.Errorf("public clear: %w", err)
	}
	// Never publish a count the public data itself withholds: the
	// minimum is the larger of ours and the one the anonymisation last
	// used (an operator may have raised it with anon rebuild --min-count).
	var anonMin *int32
	if err := tx.QueryRow(ctx, `SELECT max(min_count) FROM open.meta`).Scan(&anonMin); err != nil {
		return fmt.Errorf("public minimum count: %w", err)
	}
	if anonMin != nil && int(*anonMin) > opts.MinCount {
		opts.MinCount = int(*anonMin)
	}
	var latest *time.Time
	if err := tx.QueryRow(ctx, publicLatestSQL).Scan(&latest); err != nil {
		return fmt.Errorf("public latest: %w", err)
	}
	if latest == nil {
		_, err := tx.Exec(ctx, insertPublicMetaSQL, nil, opts.MinCount, publicMethod)
		return err
	}
	in := &input{latest: latest.UTC(), loc: time.UTC}
	pl, err := loadPlaces(ctx, tx)
	if err != nil {
		return err
	}
	in.places = pl
	bySlug := map[string]*placeData{}
	for _, p := range pl {
		bySlug[p.slug] = p
	}
	prio, err := loadPriorities(ctx, tx)
	if err != nil {
		return err
	}
	from := in.latest.AddDate(0, -11, 0)
	rows, err := tx.Query(ctx, publicSQL, from, in.latest.AddDate(0, 1, 0))
	if err != nil {
		return fmt.Errorf("public crimes: %w", err)
	}
	lm := in.latest.Year()*12 + int(in.latest.Month())
	var slug, cat string
	var month time.Time
	var r row
	for rows.Next() {
		if err := rows.Scan(&slug, &r.x, &r.y, &cat, &month); err != nil {
			rows.Close()
			return err
		}
		m := lm - (month.Year()*12 + int(month.Month()))
		if m < 0 || m >= 12 {
			continue
		}
		r.month, r.priority = int16(m), prio[cat]
		bySlug[slug].rows = append(bySlug[slug].rows, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("public crimes: %w", err)
	}
	cells := PublicCells(in, opts.MinCount)
	n := len(cells)
	places, windows := make([]string, n), make([]string, n)
	prios, confs := make([]int16, n), make([]int16, n)
	froms, tos := make([]time.Time, n), make([]time.Time, n)
	counts := make([]*int32, n)
	geoms := make([][]byte, n)
	for i, c := range cells {
		places[i], windows[i], prios[i], confs[i] = c.Place, c.Window, int16(c.Priority), int16(c.Confidence)
		froms[i], tos[i] = c.From, c.To
		if c.Count != nil {
			v := int32(*c.Count)
			counts[i] = &v
		} else {
			sum.Suppressed++
		}
		if geoms[i], err = wkb.Marshal(c.Grid.Polygon(c.Cell)); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, insertPublicSQL, places, prios, windows, froms, tos, confs, counts, geoms); err != nil {
		return fmt.Errorf("public cells: %w", err)
	}
	sum.PublicCells = n
	_, err = tx.Exec(ctx, insertPublicMetaSQL, in.latest, opts.MinCount, publicMethod)
	return err
}

// PublicCells runs Gi* per place × priority × window over in (public,
// month-only rows) and returns the hot cells significant at 90% or more,
// with counts from 1 to minCount-1 withheld.
func PublicCells(in *input, minCount int) []PublicCell {
	var out []PublicCell
	for _, pd := range in.places {
		n12 := len(pd.rows)
		g := Grid{Size: CellSize(pd.area, n12)}
		cells := g.ColumnCells(pd.geom)
		index := make(map[Cell]int, len(cells))
		for i, c := range cells {
			index[c] = i
		}
		cellOf := make([]int, len(pd.rows))
		for i, r := range pd.rows {
			c := g.CellAt(r.x, r.y)
			ci, ok := index[c]
			if !ok {
				ci = len(cells)
				index[c] = ci
				cells = append(cells, c)
			}
			cellOf[i] = ci
		}
		nbrs := g.Neighbourhoods(cells, g.DefaultBand())
		for pr := 0; pr <= 5; pr++ {
			for _, w := range Windows {
				counts := make([]float64, len(cells))
				for i, r := range pd.rows {
					if int(r.month) < w.Months && (pr == 0 || int(r.priority) == pr) {
						counts[cellOf[i]]++
					}
				}
				z, err := GiStar(counts, nbrs)
				if err != nil {
					continue
				}
				for i, level := range Confidence(z) {
					if level == 0 {
						continue
					}
					c := PublicCell{Place: pd.slug, Priority: pr, Window: w.Name, Confidence: level, Cell: cells[i], Grid: g,
						From: monthStart(in.latest, w.Months-1), To: in.latest.AddDate(0, 1, 0)}
					if k := int(counts[i]); k == 0 || k >= minCount {
						c.Count = &k
					}
					out = append(out, c)
				}
			}
		}
	}
	return out
}
