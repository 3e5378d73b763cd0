package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/harborough-csp/hotspot/geo/anon"
	"github.com/harborough-csp/hotspot/tiles"
)

func tilesCommand() *command {
	return &command{
		name:    "tiles",
		summary: "rebuild the tile aggregates, or benchmark the vector tiles",
		sub:     []*command{tilesRefreshCommand(), tilesBenchCommand()},
	}
}

func tilesRefreshCommand() *command {
	return &command{
		name:    "refresh",
		summary: "rebuild the tile aggregates (tile_cells, open.tile_cells) from scratch",
		usage:   "[--cluster]",
		help: `Rebuilds the per-cell, per-month, per-category counts that low-zoom tiles
read, from the incidents and the public data, in one transaction, and bumps
the data version so every server drops its cached tiles. Triggers keep the
counts right as data is imported; this is for a restored database, or to
check them. Prints the number of cells and the time taken.

--cluster also rewrites the incidents table in spatial order (CLUSTER on
its Web Mercator index), so that the points of a tile sit on neighbouring
pages: point tiles then read a few pages instead of one per incident. It
locks the incidents table against everything while it runs (about a
minute per million rows): run it when the service is quiet.`,
		flags: func(fs *flag.FlagSet) any {
			cluster := new(bool)
			fs.BoolVar(cluster, "cluster", false, "also put the incidents table in spatial order (locks it while it runs)")
			return cluster
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: refresh takes no arguments", errUsage)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			s, err := tiles.Refresh(ctx, db.Pool)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "tile cells: %d; public tile cells: %d (%.2fs)\n", s.Cells, s.PublicCells, s.Duration.Seconds())
			if *opts.(*bool) {
				start := time.Now()
				if err := tiles.Cluster(ctx, db.Pool); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "incidents clustered in spatial order (%.2fs)\n", time.Since(start).Seconds())
			}
			return nil
		},
	}
}

type tilesBenchFlags struct {
	workers  int
	perZoom  int
	minZoom  int
	maxZoom  int
	duration time.Duration
	naive    bool
	detail   bool
	prime    bool
}

func tilesBenchCommand() *command {
	return &command{
		name:    "bench",
		summary: "time the tile layers against a naive ST_AsMVT over incidents, per zoom",
		usage:   "[--workers 2] [--per-zoom 32] [--min-zoom 8] [--max-zoom 16] [--throughput 3s] [--naive=true]",
		help: `Requests a fixed list of tiles covering the district (every tile to zoom 11,
then an evenly spread sample of --per-zoom tiles per zoom, chosen from the
tiles that hold incidents) for the incidents layer (as the police), the
density layer (as the police and as the public), unfiltered and with three
filters, and prints per layer and zoom: cold latency (empty tile cache,
p50/p95), warm latency (from the cache), the largest and median tile, and
the naive baseline: ST_AsMVT straight over the incidents table for the same
tiles, as a generic table-layer tile server does. Then the warm throughput
with --workers goroutines. "Cold" means not in the tile cache; with --prime
(the default) every request is made once first, so PostgreSQL's buffers
and the OS's page cache hold the data as on a server that has been up. Load data first (hotspot synth --incidents
1000000).`,
		flags: func(fs *flag.FlagSet) any {
			f := &tilesBenchFlags{}
			fs.IntVar(&f.workers, "workers", 2, "goroutines for the warm throughput run")
			fs.IntVar(&f.perZoom, "per-zoom", 32, "tiles per zoom from zoom 12")
			fs.IntVar(&f.minZoom, "min-zoom", 8, "first zoom")
			fs.IntVar(&f.maxZoom, "max-zoom", 16, "last zoom")
			fs.DurationVar(&f.duration, "throughput", 3*time.Second, "length of the warm throughput run")
			fs.BoolVar(&f.naive, "naive", true, "also time the naive baseline")
			fs.BoolVar(&f.detail, "detail", false, "also print latencies per filter and the slowest tile of each row")
			fs.BoolVar(&f.prime, "prime", true, "make every request once before timing, so PostgreSQL's and the OS's caches hold the data as on a server that has been up (the tile cache is emptied after)")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			f := opts.(*tilesBenchFlags)
			if len(args) > 0 {
				return fmt.Errorf("%w: bench takes no arguments", errUsage)
			}
			if f.workers < 1 || f.perZoom < 1 || f.minZoom < 0 || f.maxZoom > tiles.MaxZoom || f.minZoom > f.maxZoom {
				return fmt.Errorf("%w: bad --workers, --per-zoom or zoom range", errUsage)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			pub, err := anon.PublicPool(ctx, db.Pool)
			if err != nil {
				return err
			}
			defer pub.Close()
			srv, err := tiles.Open(ctx, db.Pool, pub)
			if err != nil {
				return err
			}
			defer srv.Close()
			return benchTiles(ctx, g.stdout, db.Pool, srv, f)
		},
	}
}

// benchFilters are the filter variants every tile is asked with.
var benchFilters = []string{"", "priority=2&from=2024-01&to=2024-06", "category=burglary&category=vehicle-crime", "from=2024-03-05&to=2024-03-20"}

type benchCase struct {
	layer string
	aud   tiles.Audience
}

var benchCases = []benchCase{{"incidents", tiles.AudiencePolice}, {"density", tiles.AudiencePolice}, {"density", tiles.AudiencePublic}}

// benchTileList is the fixed list of tiles: every tile over the
// district's bounds up to zoom 11, and from zoom 12 perZoom of those
// holding incidents, evenly spread over them in row order.
func benchTileList(ctx context.Context, pool pgx.Tx, b [4]float64, z maptile.Zoom, perZoom int) ([]maptile.Tile, error) {
	min := maptile.At(orb.Point{b[0], b[3]}, z)
	max := maptile.At(orb.Point{b[2], b[1]}, z)
	var all []maptile.Tile
	for y := min.Y; y <= max.Y; y++ {
		for x := min.X; x <= max.X; x++ {
			all = append(all, maptile.New(x, y, z))
		}
	}
	if z <= 11 || len(all) <= perZoom {
		return all, nil
	}
	var busy []maptile.Tile
	for _, t := range all {
		var has bool
		err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM incidents WHERE geom_web && ST_TileEnvelope($1::int, $2::int, $3::int))`,
			int(t.Z), int(t.X), int(t.Y)).Scan(&has)
		if err != nil {
			return nil, err
		}
		if has {
			busy = append(busy, t)
		}
	}
	if len(busy) <= perZoom {
		return busy, nil
	}
	out := make([]maptile.Tile, 0, perZoom)
	for i := 0; i < perZoom; i++ {
		out = append(out, busy[i*len(busy)/perZoom])
	}
	return out, nil
}

type benchRow struct {
	cold, warm, naive          []time.Duration
	sizes, naiveSizes          []int
	aggregatedAtPointZoom, all int
	// slowest is the slowest cold request, and perFilter the cold
	// latencies by filter variant.
	slowest    time.Duration
	slowestReq tiles.Request
	slowestQ   string
	perFilter  map[string][]time.Duration
}

func benchTiles(ctx context.Context, w io.Writer, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}, srv *tiles.Server, f *tilesBenchFlags) error {
	if err := srv.Warm(ctx); err != nil {
		return err
	}
	bounds, err := srv.Bounds(ctx)
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	var n int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM incidents`).Scan(&n); err != nil {
		return err
	}
	list := map[maptile.Zoom][]maptile.Tile{}
	total := 0
	for z := f.minZoom; z <= f.maxZoom; z++ {
		ts, err := benchTileList(ctx, tx, bounds, maptile.Zoom(z), f.perZoom)
		if err != nil {
			return err
		}
		list[maptile.Zoom(z)] = ts
		total += len(ts)
	}
	fmt.Fprintf(w, "%d incidents; %d tiles at z%d-z%d, %d filter variants, %d layer/audience cases\n", n, total, f.minZoom, f.maxZoom, len(benchFilters), len(benchCases))
	if f.prime {
		start := time.Now()
		for _, c := range benchCases {
			for z := f.minZoom; z <= f.maxZoom; z++ {
				for _, fs := range benchFilters {
					q, _ := url.ParseQuery(fs)
					filter, _ := tiles.ParseFilter(q)
					if c.aud == tiles.AudiencePublic && filter.Days {
						continue
					}
					for _, t := range list[maptile.Zoom(z)] {
						if _, _, err := srv.Build(ctx, tiles.Request{Layer: c.layer, Tile: t, Audience: c.aud, Filter: filter}); err != nil {
							return err
						}
						if f.naive && c.layer == "incidents" {
							if _, err := srv.Naive(ctx, t, filter); err != nil {
								return err
							}
						}
					}
				}
			}
		}
		fmt.Fprintf(w, "primed PostgreSQL's caches with every request once (%.1fs)\n", time.Since(start).Seconds())
	}
	srv.Cache().Clear()
	rows := map[string]*benchRow{}
	var reqs []tiles.Request
	for _, c := range benchCases {
		for z := f.minZoom; z <= f.maxZoom; z++ {
			key := fmt.Sprintf("%s/%s/%02d", c.layer, c.aud, z)
			r := &benchRow{perFilter: map[string][]time.Duration{}}
			rows[key] = r
			for _, fs := range benchFilters {
				q, _ := url.ParseQuery(fs)
				filter, err := tiles.ParseFilter(q)
				if err != nil {
					return err
				}
				if c.aud == tiles.AudiencePublic && filter.Days {
					continue // the public data is monthly
				}
				for _, t := range list[maptile.Zoom(z)] {
					req := tiles.Request{Layer: c.layer, Tile: t, Audience: c.aud, Filter: filter}
					start := time.Now()
					tile, err := srv.Get(ctx, req)
					if err != nil {
						return fmt.Errorf("%s %v %s: %w", c.layer, t, fs, err)
					}
					el := time.Since(start)
					r.cold = append(r.cold, el)
					r.perFilter[fs] = append(r.perFilter[fs], el)
					if el > r.slowest {
						r.slowest, r.slowestReq, r.slowestQ = el, req, fs
					}
					r.sizes = append(r.sizes, len(tile.Body))
					r.all++
					if c.layer == "incidents" && t.Z >= tiles.PointMinZoom && tile.Source != "points" {
						r.aggregatedAtPointZoom++
					}
					reqs = append(reqs, req)
					if f.naive && c.layer == "incidents" {
						start := time.Now()
						b, err := srv.Naive(ctx, t, filter)
						if err != nil {
							return err
						}
						r.naive = append(r.naive, time.Since(start))
						r.naiveSizes = append(r.naiveSizes, len(b))
					}
				}
			}
		}
	}
	for _, req := range reqs {
		key := fmt.Sprintf("%s/%s/%02d", req.Layer, req.Audience, req.Tile.Z)
		start := time.Now()
		if _, err := srv.Get(ctx, req); err != nil {
			return err
		}
		rows[key].warm = append(rows[key].warm, time.Since(start))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\taudience\tzoom\ttiles\tcold p50 ms\tcold p95 ms\twarm p50 µs\twarm p95 µs\tmax KB\tmedian KB\tnaive p50 ms\tnaive p95 ms\tnaive max KB\tnaive/cold p50\tclusters at point zoom\t")
	var keys []string
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r := rows[k]
		if r.all == 0 {
			continue
		}
		var c benchCase
		var z int
		fmt.Sscanf(k[len(k)-2:], "%d", &z)
		for _, bc := range benchCases {
			if k == fmt.Sprintf("%s/%s/%02d", bc.layer, bc.aud, z) {
				c = bc
			}
		}
		naive := "-\t-\t-\t-"
		if len(r.naive) > 0 {
			naive = fmt.Sprintf("%.1f\t%.1f\t%.0f\t%.1f×", ms(pct(r.naive, 50)), ms(pct(r.naive, 95)), kb(maxInt(r.naiveSizes)),
				float64(pct(r.naive, 50))/float64(pct(r.cold, 50)))
		}
		clusters := "-"
		if c.layer == "incidents" && z >= tiles.PointMinZoom {
			clusters = fmt.Sprintf("%d of %d", r.aggregatedAtPointZoom, r.all)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\t%.1f\t%.0f\t%.0f\t%.0f\t%.1f\t%s\t%s\t\n", c.layer, c.aud, z, r.all,
			ms(pct(r.cold, 50)), ms(pct(r.cold, 95)), us(pct(r.warm, 50)), us(pct(r.warm, 95)),
			kb(maxInt(r.sizes)), kb(medianInt(r.sizes)), naive, clusters)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if f.detail {
		fmt.Fprintln(w, "\ncold p50/p95 ms by filter, and the slowest cold tile:")
		for _, k := range keys {
			r := rows[k]
			fmt.Fprintf(w, "%s:", k)
			for _, fs := range benchFilters {
				if d := r.perFilter[fs]; len(d) > 0 {
					name := fs
					if name == "" {
						name = "none"
					}
					fmt.Fprintf(w, "  [%s] %.1f/%.1f", name, ms(pct(d, 50)), ms(pct(d, 95)))
				}
			}
			fmt.Fprintf(w, "  slowest %v ?%s %.1f ms\n", r.slowestReq.Tile, r.slowestQ, ms(r.slowest))
		}
	}
	// Warm throughput: the workers walk the list from the cache.
	var done atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(f.duration)
	var firstErr error
	var once sync.Once
	for i := 0; i < f.workers; i++ {
		wg.Add(1)
		go func(off int) {
			defer wg.Done()
			for j := off; time.Now().Before(deadline); j++ {
				if _, err := srv.Get(ctx, reqs[j%len(reqs)]); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				done.Add(1)
			}
		}(i * len(reqs) / f.workers)
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	hits, misses, entries, size := srv.Cache().Stats()
	fmt.Fprintf(w, "warm throughput: %.0f tiles/s with %d workers over %d requests (%.1fs); cache %d tiles, %.1f MB, %d hits, %d misses\n",
		float64(done.Load())/f.duration.Seconds(), f.workers, len(reqs), f.duration.Seconds(), entries, float64(size)/1e6, hits, misses)
	return nil
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(math.Ceil(float64(p)/100*float64(len(s)))) - 1
	if i < 0 {
		i = 0
	}
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
func kb(n int) float64           { return float64(n) / 1024 }

func maxInt(xs []int) int {
	m := 0
	for _, x := range xs {
		if x > m {
			m = x
		}
	}
	return m
}

func medianInt(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := append([]int(nil), xs...)
	sort.Ints(s)
	return s[len(s)/2]
}
