package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/harborough-csp/hotspot/migrations"
)

func migrateCommand() *command {
	return &command{
		name:    "migrate",
		summary: "apply the database schema's pending migrations",
		help: `Applies the embedded SQL migrations that the database has not had yet, in
order, under an advisory lock, and lists them. Every other command does the
same on start-up; this one does only that, for deployments that migrate as
a separate step.`,
		flags: func(*flag.FlagSet) any { return nil },
		run: func(ctx context.Context, g *globals, _ any, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: migrate takes no arguments", errUsage)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			all, err := migrations.All()
			if err != nil {
				return err
			}
			for _, m := range db.Applied {
				fmt.Fprintf(g.stdout, "applied %s\n", m)
			}
			fmt.Fprintf(g.stdout, "schema is at version %d (%d migrations, %d applied now)\n",
				all[len(all)-1].Version, len(all), len(db.Applied))
			return nil
		},
	}
}
