package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/geocode"
)

func gazetteerCommand() *command {
	return &command{
		name:    "gazetteer",
		summary: "load the geocoder's gazetteer (postcodes, places, streets, address points) and measure it",
		sub:     []*command{gazetteerLoadCommand(), gazetteerEvaluateCommand()},
	}
}

type gazetteerLoadFlags struct {
	data          string
	postcodes     string
	places        string
	addressPoints string
	streets       bool
}

func gazetteerLoadCommand() *command {
	return &command{
		name:    "load",
		summary: "load the gazetteer from Code-Point Open, GeoNames, police.uk streets and an LLPG CSV",
		usage:   "[--data DIR] [--postcodes DIR] [--places FILE|DIR] [--address-points FILE.csv] [--streets-from-incidents]",
		help: `Fills the gazetteer the geocoder matches against:

  --postcodes DIR           every Code-Point Open CSV in DIR not imported yet
                            (the postcodes table, as 'hotspot import postcodes')
  --places FILE|DIR         GeoNames settlements: a cities500-layout or
                            postal-code-layout TSV with a header row, or a
                            directory holding both files of DATA/places
  --address-points FILE     a council LLPG export: CSV with a header row and
                            the columns UPRN, ADDRESS, POSTCODE, EASTING,
                            NORTHING (any order; BNG metres)
  --streets-from-incidents  learn streets from the police.uk "On or near X"
                            locations already imported (run after imports)

Without any of them, it loads everything from --data (DATA/postcodes,
DATA/places, the streets). Every run also copies the named places (run
'hotspot places build' first) and the built-in landmarks. Each source is
replaced whole in one transaction, so a second run gives the same
gazetteer; a bad address-point row is reported with its line and reason
and the rest loads.`,
		flags: func(fs *flag.FlagSet) any {
			f := &gazetteerLoadFlags{}
			fs.StringVar(&f.data, "data", envOr("HOTSPOT_DEMO_DATA", defaultDemoData), "folder of real data, laid out as ../shared/data (env HOTSPOT_DEMO_DATA)")
			fs.StringVar(&f.postcodes, "postcodes", "", "folder of Code-Point Open CSVs")
			fs.StringVar(&f.places, "places", "", "GeoNames TSV file, or a folder of them")
			fs.StringVar(&f.addressPoints, "address-points", "", "LLPG address-point CSV (UPRN, ADDRESS, POSTCODE, EASTING, NORTHING)")
			fs.BoolVar(&f.streets, "streets-from-incidents", false, "learn streets from imported police.uk locations")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			f := opts.(*gazetteerLoadFlags)
			if len(args) > 0 {
				return fmt.Errorf("%w: gazetteer load takes flags only", errUsage)
			}
			if f.postcodes == "" && f.places == "" && f.addressPoints == "" && !f.streets {
				f.postcodes = filepath.Join(f.data, "postcodes")
				f.places = filepath.Join(f.data, "places")
				f.streets = true
			}
			// Check the files before the database starts.
			for _, p := range []string{f.postcodes, f.places, f.addressPoints} {
				if p == "" {
					continue
				}
				if _, err := os.Stat(p); err != nil {
					return err
				}
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			return loadGazetteer(ctx, g.stdout, db.Pool, f)
		},
	}
}

// loadGazetteer loads what f names, in the order the sources need:
// postcodes and settlements before the streets they label.
func loadGazetteer(ctx context.Context, w io.Writer, pool *pgxpool.Pool, f *gazetteerLoadFlags) error {
	if f.postcodes != "" {
		files, err := filepath.Glob(filepath.Join(f.postcodes, "*.csv"))
		if err != nil {
			return err
		}
		var cp []string
		for _, file := range files {
			// OS ships a header-only file beside the data; skip it.
			if !strings.Contains(strings.ToLower(filepath.Base(file)), "header") {
				cp = append(cp, file)
			}
		}
		todo, err := notImported(ctx, pool, cp)
		if err != nil {
			return err
		}
		if skipped := len(cp) - len(todo); skipped > 0 {
			fmt.Fprintf(w, "%d Code-Point Open files already loaded\n", skipped)
		}
		if len(todo) > 0 {
			if err := importPostcodes(ctx, w, pool, todo); err != nil {
				return err
			}
		}
	}
	if f.places != "" {
		files := []string{f.places}
		if st, err := os.Stat(f.places); err == nil && st.IsDir() {
			files = []string{filepath.Join(f.places, geocode.Cities500File), filepath.Join(f.places, geocode.PostalFile)}
		}
		for _, file := range files {
			src, n, err := geocode.LoadGeoNamesFile(ctx, pool, file)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%d settlements from %s (%s)\n", n, file, src)
		}
	}
	counts, err := geocode.LoadNamedPlaces(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%d named places and %d landmark names\n", counts[geocode.SourceNamedPlaces], counts[geocode.SourceLandmarks])
	if f.streets {
		n, err := geocode.LearnStreets(ctx, pool, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%d streets learned from police.uk locations\n", n)
	}
	if f.addressPoints != "" {
		file, err := os.Open(f.addressPoints)
		if err != nil {
			return err
		}
		sum, err := geocode.LoadAddressPoints(ctx, pool, file)
		file.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.addressPoints, err)
		}
		fmt.Fprintf(w, "%d address points loaded from %s (%d rows read, %d rejected), giving %d streets\n", sum.Loaded, f.addressPoints, sum.Read, len(sum.Rejected), sum.Streets)
		for i, r := range sum.Rejected {
			if i == 20 {
				fmt.Fprintf(w, "  ... and %d more\n", len(sum.Rejected)-i)
				break
			}
			fmt.Fprintf(w, "  rejected %v\n", r)
		}
	}
	all, err := geocode.Counts(ctx, pool)
	if err != nil {
		return err
	}
	srcs := make([]string, 0, len(all))
	for s := range all {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tENTRIES")
	for _, s := range srcs {
		fmt.Fprintf(tw, "%s\t%d\n", s, all[s])
	}
	return tw.Flush()
}

// loadDemoGazetteer loads the gazetteer from the data folder the first
// time (when it has no police.uk streets yet); later runs keep it.
func loadDemoGazetteer(ctx context.Context, g *globals, pool *pgxpool.Pool, dir string) error {
	counts, err := geocode.Counts(ctx, pool)
	if err != nil || counts[geocode.SourcePoliceUK] > 0 {
		return err
	}
	f := &gazetteerLoadFlags{streets: true}
	if st, err := os.Stat(filepath.Join(dir, "places")); err == nil && st.IsDir() {
		f.places = filepath.Join(dir, "places")
	}
	fmt.Fprintln(g.stdout, "loading the gazetteer")
	return loadGazetteer(ctx, g.stdout, pool, f)
}

type gazetteerEvaluateFlags struct {
	testFiles string
	workers   int
	writeSet  string
}

const policeUKFilesSQL = `SELECT DISTINCT file_name FROM import_batches WHERE source = 'police-uk' AND finished_at IS NOT NULL ORDER BY 1`

func gazetteerEvaluateCommand() *command {
	return &command{
		name:    "evaluate",
		summary: "measure match rate, error in metres and speed on labelled sets built from the real data",
		usage:   "[--test-files 2024-02-leicestershire-street.csv] [--workers 8]",
		help: `Builds two labelled sets from the loaded data and geocodes them:

  (a) every Harborough District postcode in Code-Point Open, written as
      printed, lower case without the space, with an O/I slip for a 0/1,
      and at the end of an address; scored on the exact unit;
  (b) every distinct police.uk "On or near <street>" location of the test
      files inside the district, as "<street>, <town of its LSOA>", as
      written, abbreviated in lower case, and with a typo; scored by the
      distance to its real point.

For (b) the streets are first re-learned from the other police.uk files
only, so the test months are unseen; the full street set is learned
again at the end. Prints per set the share matched, the share placed
(matched or low-confidence), the exact-unit rate (postcodes), the median
and 90th-percentile error in metres, and the geocodes per second.`,
		flags: func(fs *flag.FlagSet) any {
			f := &gazetteerEvaluateFlags{}
			fs.StringVar(&f.testFiles, "test-files", "2024-02-leicestershire-street.csv", "police.uk files (as imported) held out as test set (b); the streets are learned from all the others")
			fs.IntVar(&f.workers, "workers", 8, "geocodes at once")
			fs.StringVar(&f.writeSet, "write-set", "", "also write the labelled sets to this CSV (set,address,easting,northing), for 'hotspot geocode'")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			f := opts.(*gazetteerEvaluateFlags)
			if len(args) > 0 {
				return fmt.Errorf("%w: gazetteer evaluate takes flags only", errUsage)
			}
			test := strings.Split(f.testFiles, ",")
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			pool := db.Pool
			rows, err := pool.Query(ctx, policeUKFilesSQL)
			if err != nil {
				return err
			}
			var train []string
			isTest := map[string]bool{}
			for _, t := range test {
				isTest[strings.TrimSpace(t)] = true
			}
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					rows.Close()
					return err
				}
				if !isTest[name] {
					train = append(train, name)
				}
			}
			rows.Close()
			if len(train) == 0 {
				return fmt.Errorf("no police.uk files besides the test files are imported: import some first")
			}
			n, err := geocode.LearnStreets(ctx, pool, train)
			if err != nil {
				return err
			}
			// Whatever happens, learn the full street set again.
			defer func() {
				if _, err := geocode.LearnStreets(context.WithoutCancel(ctx), pool, nil); err != nil {
					fmt.Fprintf(g.stderr, "re-learning all streets: %v\n", err)
				}
			}()
			fmt.Fprintf(g.stdout, "streets learned from %d files (%s): %d\n", len(train), strings.Join(train, ", "), n)
			a, err := geocode.PostcodeSet(ctx, pool)
			if err != nil {
				return err
			}
			b, err := geocode.StreetSet(ctx, pool, test)
			if err != nil {
				return err
			}
			if len(a) == 0 || len(b) == 0 {
				return fmt.Errorf("empty labelled set (postcodes %d, streets %d): load Code-Point Open and the test files", len(a), len(b))
			}
			if f.writeSet != "" {
				if err := writeLabelled(f.writeSet, append(a, b...)); err != nil {
					return err
				}
			}
			ev, err := geocode.Evaluate(ctx, geocode.New(pool), append(a, b...), f.workers)
			if err != nil {
				return err
			}
			fmt.Fprint(g.stdout, ev)
			return nil
		},
	}
}

// writeLabelled writes labelled texts as CSV with an address column.
func writeLabelled(path string, ls []geocode.Labelled) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"set", "address", "true_easting", "true_northing"})
	for _, l := range ls {
		w.Write([]string{l.Set, l.Text, strconv.FormatFloat(l.E, 'f', 0, 64), strconv.FormatFloat(l.N, 'f', 0, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
