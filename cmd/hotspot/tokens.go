package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/harborough-csp/hotspot/geo/auth"
)

func tokensCommand() *command {
	return &command{
		name:    "tokens",
		summary: "create, list and revoke API tokens for machines",
		sub:     []*command{tokensAddCommand(), tokensListCommand(), tokensRevokeCommand()},
	}
}

type tokenFlags struct {
	user, scope, name, expires string
}

func tokensAddCommand() *command {
	return &command{
		name:    "add",
		summary: "create an API token for a user and print it once",
		usage:   "--user NAME --scope ingest[,read] [--name LABEL] [--expires 90d]",
		help: `Creates an API token that acts as the user (with their role) but only for
what its scopes allow: ingest (machine uploads) and/or read (GET routes the
role may use). Send it as "Authorization: Bearer TOKEN". The token is
printed once and stored only as a hash: if it is lost, revoke it and make
another. --expires takes days (90d), a Go duration (12h) or never.`,
		flags: func(fs *flag.FlagSet) any {
			f := &tokenFlags{}
			fs.StringVar(&f.user, "user", "", "the user the token acts as (required)")
			fs.StringVar(&f.scope, "scope", "", "comma-separated scopes: ingest, read (required)")
			fs.StringVar(&f.name, "name", "", "a label saying what the token is for, e.g. the partner's system")
			fs.StringVar(&f.expires, "expires", "90d", "lifetime: days (90d), a duration (12h) or never")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			f := opts.(*tokenFlags)
			if len(args) > 0 {
				return fmt.Errorf("%w: tokens add takes flags only", errUsage)
			}
			if f.user == "" {
				return fmt.Errorf("%w: --user is required", errUsage)
			}
			if f.scope == "" {
				return fmt.Errorf("%w: --scope is required (ingest, read or ingest,read)", errUsage)
			}
			scopes, err := auth.ParseScopes(f.scope)
			if err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			ttl, err := parseExpiry(f.expires)
			if err != nil {
				return fmt.Errorf("%w: --expires: %v", errUsage, err)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			info, token, err := auth.New(db.Pool).AddToken(ctx, cliActor(), f.user, scopes, f.name, ttl)
			if err != nil {
				return err
			}
			expires := "never expires"
			if info.Expires != nil {
				expires = "expires " + when(*info.Expires)
			}
			fmt.Fprintf(g.stdout, "token %d for %s, scopes %s, %s\n%s\n", info.ID, info.User, scopeList(info.Scopes), expires, token)
			fmt.Fprintln(g.stdout, "This is the only time the token is shown: store it now.")
			return nil
		},
	}
}

func tokensListCommand() *command {
	return &command{
		name:    "list",
		summary: "list API tokens (never their secrets)",
		flags:   func(*flag.FlagSet) any { return nil },
		run: func(ctx context.Context, g *globals, _ any, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: list takes no arguments", errUsage)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			tokens, err := auth.New(db.Pool).Tokens(ctx)
			if err != nil {
				return err
			}
			if len(tokens) == 0 {
				fmt.Fprintln(g.stdout, "no API tokens yet: create one with hotspot tokens add --user NAME --scope SCOPES")
				return nil
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUSER\tNAME\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
			now := time.Now()
			for _, t := range tokens {
				expires, last, status := "never", "never", "active"
				if t.Expires != nil {
					expires = when(*t.Expires)
					if t.Expires.Before(now) {
						status = "expired"
					}
				}
				if t.LastUsed != nil {
					last = when(*t.LastUsed)
				}
				if t.Revoked != nil {
					status = "revoked " + when(*t.Revoked)
				}
				label := t.Label
				if label == "" {
					label = "-"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, label, scopeList(t.Scopes), when(t.Created), expires, last, status)
			}
			return tw.Flush()
		},
	}
}

func tokensRevokeCommand() *command {
	return &command{
		name:    "revoke",
		summary: "stop an API token working, at once",
		usage:   "ID",
		flags:   func(*flag.FlagSet) any { return nil },
		run: func(ctx context.Context, g *globals, _ any, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("%w: name one token id (see hotspot tokens list)", errUsage)
			}
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("%w: token id %q: want the number from hotspot tokens list", errUsage, args[0])
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			if err := auth.New(db.Pool).RevokeToken(ctx, cliActor(), id); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "revoked token %d\n", id)
			return nil
		},
	}
}

func scopeList(scopes []auth.Scope) string {
	parts := make([]string, len(scopes))
	for i, s := range scopes {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// maxExpiry is the longest lifetime a token may be given: a token that
// outlives the partnership's agreements is a liability.
const maxExpiry = 5 * 365 * 24 * time.Hour

// parseExpiry parses --expires: "never" (0: no expiry), whole days ("90d")
// or a Go duration ("12h"), positive and at most five years.
func parseExpiry(s string) (time.Duration, error) {
	if s == "never" {
		return 0, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if days == "" || len(days) > 4 || strings.TrimLeft(days, "0123456789") != "" {
			return 0, fmt.Errorf("%q: want whole days such as 90d, a duration such as 12h, or never", s)
		}
		n, _ := strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q: want whole days such as 90d, a duration such as 12h, or never", s)
		}
	}
	if d <= 0 {
		return 0, errors.New("the lifetime must be positive (or never)")
	}
	if d > maxExpiry {
		return 0, fmt.Errorf("%s is longer than the five years a token may live", s)
	}
	return d, nil
}
