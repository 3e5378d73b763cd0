package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/places"
)

// Audit actions of the places and priorities commands.
const (
	actionPlacesBuild  = "places.build"
	actionPlaceReplace = "places.replace"
	actionPrioritySet  = "priorities.set"
)

func placesCommand() *command {
	return &command{
		name:    "places",
		summary: "build, list and replace named places (towns, parks, Magna Park ...)",
		sub:     []*command{placesBuildCommand(), placesListCommand(), placesReplaceCommand()},
	}
}

func prioritiesCommand() *command {
	return &command{
		name:    "priorities",
		summary: "list and edit how categories map to the plan's five priorities",
		sub:     []*command{prioritiesListCommand(), prioritiesSetCommand()},
	}
}

type placesBuildFlags struct {
	data  string
	force bool
}

func placesBuildCommand() *command {
	return &command{
		name:    "build",
		summary: "build the named places and load wards and LSOAs from the data folder",
		usage:   "[--data ../shared/data] [--force]",
		help: `Loads the wards (kind "ward") and 2011 LSOAs (kind "lsoa") of DATA/boundaries
as reference areas, then builds the named places from real data: the
district from its outline; Lutterworth, Broughton Astley, Fleckney and
Thurnby/Scraptoft from the output areas of their wards that hold at least
15 postcode units per km²; Magna Park from the Code-Point Open units LE17
4X.. outside Lutterworth; Market Harborough town centre and Welland Park
from outlines drawn from known coordinates. Each place records how it was
made ("hotspot places list --verbose").

Running it again changes nothing unless the data changed. An outline an
admin uploaded (hotspot places replace) is kept unless --force is given;
an outline that is overwritten is kept in the place's history.`,
		flags: func(fs *flag.FlagSet) any {
			f := &placesBuildFlags{}
			fs.StringVar(&f.data, "data", envOr("HOTSPOT_DEMO_DATA", defaultDemoData), "folder of real data, laid out as ../shared/data (env HOTSPOT_DEMO_DATA)")
			fs.BoolVar(&f.force, "force", false, "rebuild outlines that admins uploaded, too")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			f := opts.(*placesBuildFlags)
			if len(args) > 0 {
				return fmt.Errorf("%w: places build takes flags only", errUsage)
			}
			// Read every file before the database starts: a missing file
			// costs nothing.
			src, err := places.ReadSources(f.data)
			if err != nil {
				return err
			}
			refs := map[string][]ingest.Boundary{}
			for _, r := range []struct{ kind, file string }{{"ward", places.WardsFile}, {"lsoa", places.LSOAFile}} {
				bs, err := readBoundaryFile(filepath.Join(f.data, filepath.FromSlash(r.file)))
				if err != nil {
					return fmt.Errorf("%s: %w", r.file, err)
				}
				refs[r.kind] = bs
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			for _, kind := range []string{"ward", "lsoa"} {
				if err := ingest.LoadBoundaries(ctx, db.Pool, kind, refs[kind]); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "%d %s reference areas loaded\n", len(refs[kind]), kind)
			}
			by := "hotspot places build (" + cliActor() + ")"
			built, err := places.Build(ctx, db.Pool, src, places.BuildOptions{Force: f.force, Actor: by})
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SLUG\tKIND\tKM²\tRESULT")
			counts := map[places.Action]int{}
			for _, b := range built {
				fmt.Fprintf(tw, "%s\t%s\t%.3f\t%s\n", b.Slug, b.Kind, b.AreaKm2, b.Action)
				counts[b.Action]++
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if counts[places.ActionKept] > 0 {
				fmt.Fprintf(g.stdout, "%d uploaded outlines kept; --force rebuilds them (the uploads stay in history)\n", counts[places.ActionKept])
			}
			return auth.Audit(ctx, db.Pool, cliActor(), actionPlacesBuild, map[string]any{
				"data": f.data, "force": f.force, "created": counts[places.ActionCreated], "updated": counts[places.ActionUpdated],
				"unchanged": counts[places.ActionUnchanged], "kept": counts[places.ActionKept],
			}, "")
		},
	}
}

func readBoundaryFile(path string) ([]ingest.Boundary, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return ingest.ReadBoundaries(file, "", "")
}

func placesListCommand() *command {
	return &command{
		name:    "list",
		summary: "list named places with kind, area and provenance",
		usage:   "[--verbose]",
		help:    `Lists every named place. --verbose adds each outline's full method and sources.`,
		flags: func(fs *flag.FlagSet) any {
			return fs.Bool("verbose", false, "print each place's full method and sources")
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			verbose := *opts.(*bool)
			if len(args) > 0 {
				return fmt.Errorf("%w: places list takes no arguments", errUsage)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			ps, err := places.List(ctx, db.Pool)
			if err != nil {
				return err
			}
			if len(ps) == 0 {
				fmt.Fprintln(g.stdout, "no places yet: build them with hotspot places build --data ../shared/data")
				return nil
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SLUG\tNAME\tKIND\tKM²\tPROVENANCE")
			for _, p := range ps {
				pv := p.Provenance
				fmt.Fprintf(tw, "%s\t%s\t%s\t%.3f\t%s %s by %s: %s\n", p.Slug, p.Name, p.Kind, p.AreaKm2,
					pv.Origin, when(pv.BuiltAt), pv.BuiltBy, firstSentence(pv.Method))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if verbose {
				for _, p := range ps {
					fmt.Fprintf(g.stdout, "\n%s (%s)\n  method: %s\n  sources:\n", p.Slug, p.Name, p.Provenance.Method)
					for _, s := range p.Provenance.Sources {
						fmt.Fprintf(g.stdout, "    %s\n", s)
					}
				}
			}
			return nil
		},
	}
}

// firstSentence shortens a method to its first sentence for the listing.
func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i+1]
	}
	return s
}

func placesReplaceCommand() *command {
	return &command{
		name:    "replace",
		summary: "replace a place's outline with one uploaded as GeoJSON",
		usage:   "[--actor NAME] SLUG FILE.geojson",
		help: `Replaces the outline of the place SLUG (see hotspot places list) with the
polygon in FILE: a GeoJSON Polygon or MultiPolygon, a Feature with one, or a
FeatureCollection of exactly one, in WGS84 longitude/latitude. The outline
must be valid (a ring that crosses itself is refused; specks and spikes are
repaired), lie in Harborough District (at most 1 km beyond its outline) and
have an area that suits the place's kind. The old outline is kept in the
place's history; hotspot places build leaves the upload alone unless given
--force. The provenance reads "uploaded by ACTOR on DATE". FILE may be "-"
for standard input. Flags may come before or after SLUG and FILE.`,
		flags: func(fs *flag.FlagSet) any {
			actor := new(string)
			registerActor(fs, actor)
			return actor
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			actor := opts.(*string)
			args, err := interspersed(args, func(fs *flag.FlagSet) { registerActor(fs, actor) })
			if err != nil {
				return err
			}
			if len(args) != 2 {
				return fmt.Errorf("%w: name the place's slug and a GeoJSON file", errUsage)
			}
			slug, path := args[0], args[1]
			if *actor == "" {
				*actor = cliActor()
			}
			b, err := readUpload(path)
			if err != nil {
				return err
			}
			if _, err := places.ParseUpload(b); err != nil {
				return err // before the database starts
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			res, err := places.Replace(ctx, db.Pool, slug, b, *actor)
			if errors.Is(err, places.ErrNotFound) {
				return fmt.Errorf("no place %q: hotspot places list shows the slugs", slug)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "replaced the outline of %s: %.4f km² → %.4f km² (%d polygon%s); the old outline is kept in its history\n",
				slug, res.OldAreaKm2, res.NewAreaKm2, res.Parts, map[bool]string{true: "", false: "s"}[res.Parts == 1])
			if res.Repaired != "" {
				fmt.Fprintf(g.stdout, "the upload was invalid (%s) and was repaired without changing its area\n", res.Repaired)
			}
			return auth.Audit(ctx, db.Pool, cliActor(), actionPlaceReplace, map[string]any{
				"place": slug, "file": path, "actor": *actor, "old_km2": res.OldAreaKm2, "new_km2": res.NewAreaKm2, "repaired": res.Repaired,
			}, "")
		},
	}
}

func registerActor(fs *flag.FlagSet, actor *string) {
	fs.StringVar(actor, "actor", *actor, "who is replacing the outline, for its provenance (default: cli:<your user name>)")
}

func readUpload(path string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, places.MaxUploadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// interspersed parses flags that follow positional arguments ("set
// burglary --priority 3"): Go's flag package stops at the first
// positional argument, so what follows it is parsed again. register must
// bind each flag with its current value as the default, so that values
// parsed earlier stay.
func interspersed(args []string, register func(fs *flag.FlagSet)) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "--":
			return append(pos, args[1:]...), nil
		case a == "-" || !strings.HasPrefix(a, "-"):
			pos, args = append(pos, a), args[1:]
		default:
			fs := flag.NewFlagSet("", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			register(fs)
			if err := fs.Parse(args); err != nil {
				return nil, fmt.Errorf("%w: %v", errUsage, err)
			}
			args = fs.Args()
		}
	}
	return pos, nil
}

func prioritiesListCommand() *command {
	return &command{
		name:    "list",
		summary: "list the plan's priorities and each category's priority and flags",
		usage:   "[--verbose]",
		help:    `Lists the five priorities, then every category with its priority and flags. --verbose adds why (each mapping's note).`,
		flags: func(fs *flag.FlagSet) any {
			return fs.Bool("verbose", false, "print each mapping's note")
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			verbose := *opts.(*bool)
			if len(args) > 0 {
				return fmt.Errorf("%w: priorities list takes no arguments", errUsage)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			return printPriorities(ctx, g.stdout, db.Pool, verbose)
		},
	}
}

func printPriorities(ctx context.Context, w io.Writer, pool *pgxpool.Pool, verbose bool) error {
	ps, err := places.Priorities(ctx, pool)
	if err != nil {
		return err
	}
	ms, err := places.Mappings(ctx, pool)
	if err != nil {
		return err
	}
	for _, p := range ps {
		fmt.Fprintf(w, "%d  %s\n", p.ID, p.Name)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "CATEGORY\tPRIORITY\tFLAGS\tUPDATED"
	if verbose {
		header += "\tNOTE"
	}
	fmt.Fprintln(tw, header)
	for _, m := range ms {
		pr, flags := "none", "-"
		if m.Priority > 0 {
			pr = strconv.Itoa(m.Priority)
		}
		if len(m.Flags) > 0 {
			flags = strings.Join(m.Flags, ",")
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s by %s", m.Category, pr, flags, when(m.UpdatedAt), m.UpdatedBy)
		if verbose {
			line += "\t" + m.Note
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

type prioritySetFlags struct {
	priority, flags, note string
}

func (f *prioritySetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.priority, "priority", f.priority, "the plan priority, 1 to 5, or none (required)")
	fs.StringVar(&f.flags, "flags", f.flags, "cross-cutting flags, comma-separated: alcohol, environment, or none (default: keep)")
	fs.StringVar(&f.note, "note", f.note, "why the category maps so (default: keep)")
}

func prioritiesSetCommand() *command {
	return &command{
		name:    "set",
		summary: "set the priority and flags a category counts towards",
		usage:   "CATEGORY --priority 1-5|none [--flags alcohol,environment|none] [--note TEXT]",
		help: `Sets which of the plan's priorities CATEGORY (a police.uk slug such as
burglary, or a partner's, such as fly-tipping) counts towards, and its
cross-cutting flags. A category not seen before is added. Without --flags
or --note, the category keeps the ones it has. Flags may come before or
after CATEGORY. The change takes effect in the next query; it is audited.`,
		flags: func(fs *flag.FlagSet) any {
			f := &prioritySetFlags{}
			f.register(fs)
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			f := opts.(*prioritySetFlags)
			flagsSet, noteSet := false, false
			args, err := interspersed(args, f.register)
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return fmt.Errorf("%w: name one category", errUsage)
			}
			category := args[0]
			prio := 0
			switch p := strings.TrimSpace(f.priority); {
			case p == "":
				return fmt.Errorf("%w: --priority is required (1 to 5, or none)", errUsage)
			case strings.EqualFold(p, "none"):
			default:
				if prio, err = strconv.Atoi(p); err != nil || prio < 1 || prio > 5 {
					return fmt.Errorf("%w: --priority %q: want 1 to 5, or none", errUsage, p)
				}
			}
			var flags []string
			if f.flags != "" {
				flagsSet = true
				if flags, err = places.ParseFlags(f.flags); err != nil {
					return fmt.Errorf("%w: %v", errUsage, err)
				}
			}
			noteSet = f.note != ""
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			m := places.Mapping{Category: category, Priority: prio, Flags: flags, Note: f.note}
			if old, err := places.PriorityOf(ctx, db.Pool, category); err == nil {
				if !flagsSet {
					m.Flags = old.Flags
				}
				if !noteSet {
					m.Note = old.Note
				}
			} else if !errors.Is(err, places.ErrNotFound) {
				return err
			}
			created, err := places.SetMapping(ctx, db.Pool, m, cliActor())
			if err != nil {
				return err
			}
			verb := "updated"
			if created {
				verb = "added"
			}
			pr := "no priority"
			if prio > 0 {
				pr = "priority " + strconv.Itoa(prio)
			}
			fmt.Fprintf(g.stdout, "%s %s: %s, flags [%s]\n", verb, category, pr, strings.Join(m.Flags, ","))
			return auth.Audit(ctx, db.Pool, cliActor(), actionPrioritySet, map[string]any{
				"category": category, "priority": prio, "flags": m.Flags, "note": m.Note, "created": created,
			}, "")
		},
	}
}
