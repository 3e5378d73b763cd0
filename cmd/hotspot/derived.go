package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/anon"
)

// rebuildDerived rebuilds what is made from the precise incidents after
// a change: the public data first, then the hotspots (whose public hot
// cells read the public data just rebuilt), printing both summaries.
func rebuildDerived(ctx context.Context, w io.Writer, pool *pgxpool.Pool, trigger string) error {
	s, err := anon.Rebuild(ctx, pool, anon.Options{})
	if err != nil {
		return fmt.Errorf("rebuild public data: %w", err)
	}
	printAnonSummary(w, s)
	if err := rebuildHotspots(ctx, w, pool, trigger); err != nil {
		return fmt.Errorf("rebuild hotspots: %w", err)
	}
	return nil
}

// debouncer runs fn once things have been quiet for wait after the last
// Kick, or at most maxWait after the first, so a burst of API batches or
// review decisions costs one hotspot rebuild, not one each. fn runs on
// one goroutine, never twice at once; Kicks during a run schedule one
// more. It stops when ctx ends (a rebuild cut off by shutdown rolls back
// and leaves the previous set, see geo/hotspot).
type debouncer struct{ kick chan struct{} }

func startDebouncer(ctx context.Context, wait, maxWait time.Duration, fn func(context.Context)) *debouncer {
	d := &debouncer{kick: make(chan struct{}, 1)}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-d.kick:
			}
			quiet := time.NewTimer(wait)
			deadline := time.NewTimer(maxWait)
		settle:
			for {
				select {
				case <-ctx.Done():
					quiet.Stop()
					deadline.Stop()
					return
				case <-d.kick:
					quiet.Reset(wait)
				case <-quiet.C:
					break settle
				case <-deadline.C:
					break settle
				}
			}
			quiet.Stop()
			deadline.Stop()
			fn(ctx)
		}
	}()
	return d
}

// Kick asks for a run; it never blocks.
func (d *debouncer) Kick() {
	if d == nil {
		return
	}
	select {
	case d.kick <- struct{}{}:
	default:
	}
}
