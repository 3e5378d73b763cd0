package hotspot_test

import (
	"context"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/harborough-csp/hotspot/geo/hotspot"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/geo/synth"
)

// BenchmarkRebuild measures full rebuilds on one database holding the
// seven real police.uk months, the named places and 1,000,000 synthetic
// incidents (hotspot synth --incidents 1000000 --seed 1, 2023-01..2024-12):
//
//   - synthetic-1M: every place × priority × window × method over the real
//     and synthetic rows (1.1 million rows read, the district and each
//     place) — the 10 s target;
//   - real: the default rebuild that runs after every import: real rows
//     only, with the million synthetic rows in the table and skipped —
//     the 2 s target.
//
// Run: go test -count=1 -run XXX -bench Rebuild -benchtime 5x ./geo/hotspot
func BenchmarkRebuild(b *testing.B) {
	files := realFiles(b)
	pool := storetest.DB(b)
	loadReal(b, pool, files)
	ctx := context.Background()
	if _, err := synth.Load(ctx, pool, synth.Options{Incidents: 1_000_000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		opts hotspot.Options
	}{
		{"synthetic-1M", hotspot.Options{Synthetic: true, Trigger: "bench"}},
		{"real", hotspot.Options{Trigger: "bench"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var s hotspot.Summary
			var took []float64
			cpu0 := cpuSeconds()
			for b.Loop() {
				var err error
				if s, err = hotspot.Rebuild(ctx, pool, bc.opts); err != nil {
					b.Fatal(err)
				}
				took = append(took, s.Duration.Seconds())
			}
			// CPU seconds this process (not PostgreSQL) spent per rebuild:
			// steadier than wall time on a shared machine.
			b.ReportMetric((cpuSeconds()-cpu0)/float64(len(took)), "go-cpu-s")
			// The machine is shared: the median of the iterations says more
			// than their mean (ns/op).
			sort.Float64s(took)
			b.ReportMetric(took[len(took)/2], "median-s")
			b.ReportMetric(float64(s.Incidents), "rows")
			b.ReportMetric(float64(s.Hotspots), "hotspots")
			b.ReportMetric(s.Load.Seconds(), "load-s")
			b.ReportMetric(s.Compute.Seconds(), "compute-s")
			b.ReportMetric(s.Write.Seconds(), "write-s")
		})
	}
}

// cpuSeconds is this process's user and system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
