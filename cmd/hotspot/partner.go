package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/anon"
	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/geocode"
	"github.com/harborough-csp/hotspot/geo/ingest"
)

// geocodeLocator adapts geo/geocode's Geocoder to ingest.Locator: the two
// capabilities meet here, since siblings do not import each other.
type geocodeLocator struct{ g *geocode.Geocoder }

// geocodeQuery is the geocoder's query for a partner record. When the
// record has free text, its street, town and postcode are folded into
// that text as well as given on their own, so the remembered-decision
// key (the normalised text) says where: "outside Tesco, Lutterworth" and
// "outside Tesco, Market Harborough" are two decisions, not one.
func geocodeQuery(q ingest.LocationQuery) geocode.Query {
	gq := geocode.Query{Postcode: q.Postcode, Street: q.Street, Town: q.Town,
		Easting: q.Easting, Northing: q.Northing, Lat: q.Lat, Lon: q.Lon}
	switch {
	case q.GridRef != "":
		// A grid reference is the most exact thing a person types; words
		// beside it ("Lay-by") would only blur it.
		gq.Text = q.GridRef
	case q.Text != "":
		gq.Text = q.Label()
	}
	return gq
}

// rememberKey is the text the geocoder keys a decision for q by: its
// Text, or (geo/geocode's rule) street, town and postcode.
func rememberKey(q ingest.LocationQuery) string {
	gq := geocodeQuery(q)
	if gq.Text != "" {
		return gq.Text
	}
	return gq.Street + ", " + gq.Town + ", " + gq.Postcode
}

func (l geocodeLocator) Locate(ctx context.Context, q ingest.LocationQuery) (ingest.Placement, error) {
	r, err := l.g.Geocode(ctx, geocodeQuery(q))
	if err != nil {
		return ingest.Placement{}, err
	}
	p := ingest.Placement{Status: string(r.Status), Best: candidate(r.Best), Reason: r.Reason}
	for _, c := range r.Alternatives {
		p.Alternatives = append(p.Alternatives, candidate(c))
	}
	return p, nil
}

func (l geocodeLocator) Remember(ctx context.Context, q ingest.LocationQuery, c ingest.Candidate, by string) error {
	// Lon/lat only: the geocoder computes the grid pair from them, and a
	// record sent again then lands on exactly the point placed.
	return l.g.Remember(ctx, rememberKey(q), geocode.Candidate{Method: c.Method, Label: c.Label, EntryID: c.EntryID,
		Confidence: c.Confidence, Lon: c.Lon, Lat: c.Lat, InDistrict: c.InDistrict}, by)
}

func candidate(c geocode.Candidate) ingest.Candidate {
	return ingest.Candidate{Method: c.Method, Label: c.Label, EntryID: c.EntryID, Confidence: c.Confidence,
		Lon: c.Lon, Lat: c.Lat, Easting: c.Easting, Northing: c.Northing, InDistrict: c.InDistrict}
}

// auditTx writes geo/auth's audit rows for the partner ingest.
func auditTx(ctx context.Context, tx pgx.Tx, actor, action string, detail map[string]any, remote string) error {
	return auth.Audit(ctx, tx, actor, action, detail, remote)
}

// newPartner wires the partner ingest with the geocoder and the audit log.
func newPartner(pool *pgxpool.Pool, g *geocode.Geocoder) *ingest.Partner {
	return ingest.NewPartner(pool, geocodeLocator{g}, auditTx)
}

// partnerService is what the web layer gets: the partner ingest, with the
// public data rebuilt after every change, as the command line does.
type partnerService struct {
	*ingest.Partner
	pool *pgxpool.Pool
	log  *slog.Logger
	// hotspots, when set, is kicked after every change; it rebuilds the
	// hotspots once a burst of changes has settled.
	hotspots *debouncer
}

func (s partnerService) ImportJSON(ctx context.Context, source string, recs []json.RawMessage, actor, remote string) (ingest.PartnerSummary, []ingest.RecordResult, error) {
	sum, res, err := s.Partner.ImportJSON(ctx, source, recs, actor, remote)
	if err == nil && sum.Inserted+sum.Updated > 0 {
		s.rebuild(ctx)
	}
	return sum, res, err
}

func (s partnerService) Resolve(ctx context.Context, id int64, r ingest.Resolution, actor, remote string) (ingest.ReviewItem, error) {
	it, err := s.Partner.Resolve(ctx, id, r, actor, remote)
	if err == nil {
		s.rebuild(ctx)
	}
	return it, err
}

// rebuild refreshes the public data at once, and the hotspots (which
// read it) once changes settle. A failure is logged, not returned: the
// records are stored, and the next import or rebuild catches up.
func (s partnerService) rebuild(ctx context.Context) {
	if _, err := anon.Rebuild(context.WithoutCancel(ctx), s.pool, anon.Options{}); err != nil {
		s.log.Error("rebuild public data after a partner change", "err", err)
	}
	s.hotspots.Kick()
}

type importPartnerFlags struct{ source string }

func importPartnerCommand() *command {
	return &command{
		name:    "partner",
		summary: "import a partner's incidents (council, fire service, CCTV ...) from CSV",
		usage:   "--source NAME FILE...",
		help: `Imports partners' incident CSV files (comma separated, UTF-8, one header
line). Columns are found by name (any case; spaces, _ - / alike), with
common aliases in brackets:

  source_id      required (id, ref, reference, incident ref, case ref, log number ...)
  occurred_at    date, or date and time (date, date/time, incident date, when ...);
  occurred_from  or a span: occurred_from (from, start) and occurred_to (to, end)
  occurred_to
  time           optional time of day joined to the date (time of incident)
  category       required, free text (type, incident type, crime type, nature ...)
  address, postcode, street, town (locality, village, parish), location (place,
  site, where), grid_ref (grid reference, OSGR), easting/northing, lat/lon
  description    (details, notes, comments)

Dates are day first, UK local time: 14/03/2026, 14/03/26, 14 Mar 2026,
2026-03-14, with 14:05, 2pm, noon; "14/03/2026 22:00-02:00" is overnight;
"March 2026" the whole month. Each record becomes an incident of source
NAME; sending the same source_id again updates it (never a duplicate).
Categories are mapped by 'hotspot categories' rules; wording no rule maps
is stored as "unmapped" and listed. Locations are geocoded; a record placed
with low confidence, or not at all, is stored without a point and waits
in the review queue (GET /api/review). Malformed rows are quarantined with
their line and reason. Each file is one transaction. Afterwards the public
(anonymised) data is rebuilt.`,
		flags: func(fs *flag.FlagSet) any {
			f := &importPartnerFlags{}
			fs.StringVar(&f.source, "source", "", "the partner's source name, e.g. harborough-dc-asb (required)")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			f := opts.(*importPartnerFlags)
			if f.source == "" {
				return fmt.Errorf("%w: --source is required", errUsage)
			}
			if err := ingest.CheckSource(f.source); err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			if len(args) == 0 {
				return fmt.Errorf("%w: name at least one file", errUsage)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			p := newPartner(db.Pool, geocode.New(db.Pool))
			importErr := importPartnerFiles(ctx, g.stdout, p, f.source, args)
			if ctx.Err() != nil {
				return importErr
			}
			return errors.Join(importErr, rebuildDerived(ctx, g.stdout, db.Pool, "import partner"))
		},
	}
}

func importPartnerFiles(ctx context.Context, w io.Writer, p *ingest.Partner, source string, files []string) error {
	var failed []string
	for _, path := range files {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s, err := importPartnerFile(ctx, p, source, path)
		if err != nil {
			fmt.Fprintf(w, "%s: FAILED: %v\n", path, err)
			failed = append(failed, path)
			continue
		}
		printPartnerSummary(w, path, s)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files failed: %s", len(failed), len(files), strings.Join(failed, ", "))
	}
	return nil
}

func importPartnerFile(ctx context.Context, p *ingest.Partner, source, path string) (ingest.PartnerSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return ingest.PartnerSummary{}, err
	}
	defer f.Close()
	return p.ImportCSV(ctx, source, filepath.Base(path), f, cliActor())
}

func printPartnerSummary(w io.Writer, name string, s ingest.PartnerSummary) {
	fmt.Fprintf(w, "%s: read %d, inserted %d, updated %d, unchanged %d, quarantined %d; placed %d, needs review %d, without location %d (source %s, batch %d, %.2fs)\n",
		name, s.Read, s.Inserted, s.Updated, s.Unchanged, s.Quarantined, s.Placed, s.NeedsReview, s.NoLocation,
		s.Source, s.BatchID, s.Duration.Seconds())
	if s.Quarantined > 0 {
		var parts []string
		for _, k := range s.Reasons() {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.QuarantinedBy[k]))
		}
		fmt.Fprintf(w, "  quarantined by reason: %s\n", strings.Join(parts, ", "))
	}
	if len(s.Unmapped) > 0 {
		var parts []string
		for _, k := range s.UnmappedWordings() {
			parts = append(parts, fmt.Sprintf("%q %d", k, s.Unmapped[k]))
		}
		fmt.Fprintf(w, "  categories not mapped (stored as %q; map them with 'hotspot categories map'): %s\n",
			ingest.CategoryUnmapped, strings.Join(parts, ", "))
	}
	if len(s.Ignored) > 0 {
		fmt.Fprintf(w, "  columns not read: %s\n", strings.Join(s.Ignored, ", "))
	}
	if s.Windows1252 > 0 {
		fmt.Fprintf(w, "  %d rows were not UTF-8 and were read as Windows-1252 (Excel's CSV)\n", s.Windows1252)
	}
}

func categoriesCommand() *command {
	return &command{
		name:    "categories",
		summary: "list and edit how partners' category wording maps to categories",
		sub:     []*command{categoriesListCommand(), categoriesMapCommand()},
	}
}

func categoriesListCommand() *command {
	return &command{
		name:    "list",
		summary: "list the mapping rules and the wording still unmapped",
		help: `Prints every rule of the partner category mapping (source, kind, rank, the
wording or pattern, the category) and then the partner wording stored as
"unmapped", with how many incidents carry it.`,
		flags: func(*flag.FlagSet) any { return nil },
		run: func(ctx context.Context, g *globals, _ any, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: categories list takes no arguments", errUsage)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			rules, err := ingest.CategoryRules(ctx, db.Pool)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SOURCE\tKIND\tRANK\tWORDING\tCATEGORY")
			for _, r := range rules {
				src := r.Source
				if src == "" {
					src = "*"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", src, r.Kind, r.Rank, r.Text, r.Category)
			}
			tw.Flush()
			un, err := ingest.UnmappedWordings(ctx, db.Pool)
			if err != nil {
				return err
			}
			if len(un) == 0 {
				fmt.Fprintln(g.stdout, "\nno unmapped partner categories")
				return nil
			}
			fmt.Fprintln(g.stdout, "\nunmapped partner categories (map them with 'hotspot categories map'):")
			tw = tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SOURCE\tWORDING\tINCIDENTS")
			for _, u := range un {
				fmt.Fprintf(tw, "%s\t%s\t%d\n", u.Source, u.Wording, u.Count)
			}
			return tw.Flush()
		},
	}
}

type categoriesMapFlags struct {
	source, note string
	pattern      bool
	rank         int
}

func categoriesMapCommand() *command {
	return &command{
		name:    "map",
		summary: "map a partner's wording (or a pattern) to a category",
		usage:   "[--source NAME] [--pattern] [--rank N] [--note TEXT] WORDING CATEGORY",
		help: `Adds or replaces a mapping rule, then applies the mapping to the partner
incidents already stored and rebuilds the public data. WORDING is matched
after normalising (lower case, punctuation as spaces): "Fly-Tipping" and
"fly tipping" are one rule. With --pattern it is a regular expression (RE2)
over the normalised wording; exact rules win, then the patterns of the
highest --rank that match; if those disagree the wording stays unmapped.
Without --source the rule is for every partner; a partner's own rule wins.
CATEGORY must be known: a police.uk slug or a partner category of
'hotspot priorities list' (e.g. fly-tipping, dog-fouling).`,
		flags: func(fs *flag.FlagSet) any {
			f := &categoriesMapFlags{}
			fs.StringVar(&f.source, "source", "", "the partner the rule is for (default: every partner)")
			fs.BoolVar(&f.pattern, "pattern", false, "WORDING is a regular expression")
			fs.IntVar(&f.rank, "rank", 0, "a pattern's rank: higher ranks are tried first")
			fs.StringVar(&f.note, "note", "", "why, for the next person")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			f := opts.(*categoriesMapFlags)
			if len(args) != 2 {
				return fmt.Errorf("%w: want WORDING CATEGORY", errUsage)
			}
			r := ingest.CategoryRule{Source: f.source, Kind: ingest.RuleExact, Text: args[0], Category: args[1], Rank: f.rank, Note: f.note}
			if f.pattern {
				r.Kind = ingest.RulePattern
			}
			if f.source != "" {
				if err := ingest.CheckSource(f.source); err != nil {
					return fmt.Errorf("%w: %v", errUsage, err)
				}
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			actor := cliActor()
			r, changed, err := ingest.SetCategoryRule(ctx, db.Pool, r, actor)
			if err != nil {
				return err
			}
			if err := auth.Audit(ctx, db.Pool, actor, "categories.map", map[string]any{
				"rule": r.ID, "source": r.Source, "kind": r.Kind, "text": r.Text, "category": r.Category, "rank": r.Rank, "recategorised": changed,
			}, ""); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s %q -> %s (rule %d); %d stored incidents re-categorised\n", r.Kind, r.Text, r.Category, r.ID, changed)
			if changed > 0 {
				return rebuildDerived(ctx, g.stdout, db.Pool, "categories map")
			}
			return nil
		},
	}
}
