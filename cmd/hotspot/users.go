package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/harborough-csp/hotspot/geo/auth"
)

func usersCommand() *command {
	return &command{
		name:    "users",
		summary: "add, list, disable users and reset their passwords",
		sub:     []*command{usersAddCommand(), usersListCommand(), usersDisableCommand(), usersResetCommand()},
	}
}

type passwordFlags struct {
	role          string
	passwordStdin bool
}

const passwordHelp = `With --password-stdin the password is read from standard input (one line;
at least 12 characters), so it never appears in the process list or the
shell's history. Without it a strong random password is generated and
printed once: pass it on to the person, who cannot recover it.`

func usersAddCommand() *command {
	return &command{
		name:    "add",
		summary: "add a user with a role",
		usage:   "--role police|analyst|admin [--password-stdin] NAME",
		help: `Adds a user who can sign in on the map's login page. Roles: police (sees
precise incidents), analyst, admin. Names are 2 to 63 characters a-z, 0-9,
'.', '_' or '-', starting with a letter or digit.

` + passwordHelp,
		flags: func(fs *flag.FlagSet) any {
			f := &passwordFlags{}
			fs.StringVar(&f.role, "role", "", "the user's role: police, analyst or admin (required)")
			fs.BoolVar(&f.passwordStdin, "password-stdin", false, "read the password from standard input instead of generating one")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			f := opts.(*passwordFlags)
			if len(args) != 1 {
				return fmt.Errorf("%w: name one user", errUsage)
			}
			name := args[0]
			if err := auth.CheckName(name); err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			if f.role == "" {
				return fmt.Errorf("%w: --role is required (police, analyst or admin)", errUsage)
			}
			role, err := auth.ParseRole(f.role)
			if err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			pw, generated, err := choosePassword(f.passwordStdin)
			if err != nil {
				return err
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			if err := auth.New(db.Pool).AddUser(ctx, cliActor(), name, role, pw); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "added user %s (%s)\n", name, role)
			if generated {
				printPassword(g.stdout, name, pw)
			}
			return nil
		},
	}
}

func usersListCommand() *command {
	return &command{
		name:    "list",
		summary: "list users with role, status, creation and last sign-in",
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
			users, err := auth.New(db.Pool).Users(ctx)
			if err != nil {
				return err
			}
			if len(users) == 0 {
				fmt.Fprintln(g.stdout, "no users yet: add one with hotspot users add --role ROLE NAME")
				return nil
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tSTATUS\tCREATED\tLAST SIGN-IN")
			for _, u := range users {
				status := "active"
				if u.Disabled != nil {
					status = "disabled " + when(*u.Disabled)
				}
				last := "never"
				if u.LastLogin != nil {
					last = when(*u.LastLogin)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, status, when(u.Created), last)
			}
			return tw.Flush()
		},
	}
}

func usersDisableCommand() *command {
	return &command{
		name:    "disable",
		summary: "stop a user signing in; end their sessions and revoke their tokens",
		usage:   "NAME",
		help: `Disables the user on every server at once: they cannot sign in, their open
sessions end, and their API tokens stop working. The user stays in the list
(and in the audit log) as disabled.`,
		flags: func(*flag.FlagSet) any { return nil },
		run: func(ctx context.Context, g *globals, _ any, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("%w: name one user", errUsage)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			if err := auth.New(db.Pool).DisableUser(ctx, cliActor(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "disabled %s: sessions ended, API tokens revoked\n", args[0])
			return nil
		},
	}
}

func usersResetCommand() *command {
	return &command{
		name:    "reset-password",
		summary: "give a user a new password and end their sessions",
		usage:   "[--password-stdin] NAME",
		help: `Sets a new password and signs the user out everywhere. It does not
re-enable a disabled user.

` + passwordHelp,
		flags: func(fs *flag.FlagSet) any {
			f := &passwordFlags{}
			fs.BoolVar(&f.passwordStdin, "password-stdin", false, "read the password from standard input instead of generating one")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			f := opts.(*passwordFlags)
			if len(args) != 1 {
				return fmt.Errorf("%w: name one user", errUsage)
			}
			pw, generated, err := choosePassword(f.passwordStdin)
			if err != nil {
				return err
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			if err := auth.New(db.Pool).SetPassword(ctx, cliActor(), args[0], pw); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "new password set for %s; their sessions have ended\n", args[0])
			if generated {
				printPassword(g.stdout, args[0], pw)
			}
			return nil
		},
	}
}

// choosePassword reads the password from standard input, or generates
// one. It runs before the database starts, so a bad password costs
// nothing.
func choosePassword(fromStdin bool) (pw string, generated bool, err error) {
	if !fromStdin {
		return auth.GeneratePassword(), true, nil
	}
	pw, err = readPassword(os.Stdin)
	if err != nil {
		return "", false, err
	}
	if err := auth.CheckPassword(pw); err != nil {
		return "", false, fmt.Errorf("%w: %v", errUsage, err)
	}
	return pw, false, nil
}

// readPassword reads one line: everything up to the first newline (or
// the end), without the line ending. Spaces are part of the password.
func readPassword(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, auth.MaxPasswordLen+3))
	if err != nil {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(s, "\r")
	if len(s) > auth.MaxPasswordLen {
		return "", fmt.Errorf("%w: the password is longer than %d bytes", errUsage, auth.MaxPasswordLen)
	}
	if s == "" {
		return "", errors.New("no password on standard input")
	}
	return s, nil
}

func printPassword(w io.Writer, name, pw string) {
	fmt.Fprintf(w, "password for %s (shown only now; pass it on safely): %s\n", name, pw)
}

// cliActor names whoever runs the command, for the audit log.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

// when formats a time for the listings: local time, to the minute.
func when(t time.Time) string { return t.Local().Format("2006-01-02 15:04") }
