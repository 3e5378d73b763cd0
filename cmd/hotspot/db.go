package main

import (
	"context"
	"time"

	"github.com/harborough-csp/hotspot/geo/store"
)

// openDB opens the database the global flags name, migrated and with
// PostGIS; the returned func closes it (stopping an embedded cluster).
func (g *globals) openDB(ctx context.Context) (*store.DB, func(), error) {
	db, err := store.Open(ctx, store.Options{
		DatabaseURL: g.databaseURL,
		DataDir:     g.dataDir,
		Logger:      g.log,
	})
	if err != nil {
		return nil, nil, err
	}
	return db, func() {
		// The command's context may be cancelled already (Ctrl-C): the
		// cluster must still be stopped cleanly.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := db.Close(ctx); err != nil {
			g.log.Error("closing database", "err", err)
		}
	}, nil
}
