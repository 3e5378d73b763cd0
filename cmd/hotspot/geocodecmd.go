package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/harborough-csp/hotspot/geo/geocode"
)

type geocodeFlags struct {
	in, out, column                 string
	postcodeCol, streetCol, townCol string
	workers                         int
}

func geocodeCommand() *command {
	return &command{
		name:    "geocode",
		summary: "geocode the address column of a CSV (file or stdin) against the gazetteer",
		usage:   "[--in FILE|-] [--out FILE|-] [--column address] [--postcode-column C] [--street-column C] [--town-column C] [--workers 8]",
		help: `Reads CSV with a header row and a location column (--column, default
"address", matched without regard to case), geocodes each row's text
against the gazetteer ('hotspot gazetteer load' first) and writes the
rows with their other columns unchanged and these added:

  lat, lon             WGS84, 6 decimals
  easting, northing    British National Grid metres
  confidence           0 to 1 (see the README's confidence scale)
  method               postcode, street, gridref, latlon, ... ("" when not placed)
  matched              the gazetteer entry matched ("LE16 7NJ", "High Street, Lutterworth")
  status               matched, low-confidence, not-found, not-understood, no-location
  reason               why, in words

--postcode-column, --street-column and --town-column name optional
columns with those parts on their own; they are used beside (and over)
what the location column says, which may then be empty.

A column name that is already in the input gets the prefix "geocode_".
Rows with too few fields, or text that cannot be read, are written with
their status and reason: every input row gives one output row. Counts per
status and the rate go to stderr.`,
		flags: func(fs *flag.FlagSet) any {
			f := &geocodeFlags{}
			fs.StringVar(&f.in, "in", "-", "input CSV, - for stdin")
			fs.StringVar(&f.out, "out", "-", "output CSV, - for stdout")
			fs.StringVar(&f.column, "column", "address", "name of the location column")
			fs.StringVar(&f.postcodeCol, "postcode-column", "", "optional column holding the postcode on its own")
			fs.StringVar(&f.streetCol, "street-column", "", "optional column holding the street on its own")
			fs.StringVar(&f.townCol, "town-column", "", "optional column holding the town on its own")
			fs.IntVar(&f.workers, "workers", 8, "rows geocoded at once")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			f := opts.(*geocodeFlags)
			if len(args) > 0 {
				return fmt.Errorf("%w: geocode takes flags only (--in FILE)", errUsage)
			}
			if f.workers < 1 || f.workers > 256 {
				return fmt.Errorf("%w: --workers must be 1 to 256", errUsage)
			}
			in := os.Stdin
			if f.in != "-" {
				file, err := os.Open(f.in)
				if err != nil {
					return err
				}
				defer file.Close()
				in = file
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			counts, err := geocode.Counts(ctx, db.Pool)
			if err != nil {
				return err
			}
			if len(counts) == 0 {
				fmt.Fprintln(g.stderr, "warning: the gazetteer is empty; only postcodes and coordinates can match (run 'hotspot gazetteer load')")
			}
			out := g.stdout
			var file *os.File
			if f.out != "-" {
				// Write to a temporary file and rename it at the end: a
				// failed run leaves no half-written output.
				file, err = os.CreateTemp(dirOf(f.out), ".geocode-*.csv")
				if err != nil {
					return err
				}
				defer os.Remove(file.Name())
				defer file.Close()
				out = file
			}
			start := time.Now()
			sum, err := geocode.GeocodeCSV(ctx, geocode.New(db.Pool), in, out, geocode.CSVOptions{Column: f.column, Workers: f.workers,
				PostcodeColumn: f.postcodeCol, StreetColumn: f.streetCol, TownColumn: f.townCol})
			if err != nil {
				return err
			}
			if file != nil {
				if err := file.Close(); err != nil {
					return err
				}
				if err := os.Rename(file.Name(), f.out); err != nil {
					return err
				}
			}
			el := time.Since(start)
			var parts []string
			for _, s := range []geocode.Status{geocode.StatusMatched, geocode.StatusLowConfidence, geocode.StatusNotFound, geocode.StatusNotUnderstood, geocode.StatusNoLocation} {
				parts = append(parts, fmt.Sprintf("%s %d", s, sum.ByStatus[s]))
			}
			rate := float64(sum.Rows) / el.Seconds()
			fmt.Fprintf(g.stderr, "geocoded %d rows in %.2fs (%.0f rows/s): %s\n", sum.Rows, el.Seconds(), rate, strings.Join(parts, ", "))
			return nil
		},
	}
}

func dirOf(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[:i+1]
	}
	return "."
}
