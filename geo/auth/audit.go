package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// The audit log's actions. Other capabilities use ActionImport and
// ActionExport; the rest are written by this package.
const (
	ActionLoginSuccess  = "login.success"
	ActionLoginFailure  = "login.failure"
	ActionLogout        = "logout"
	ActionUserAdd       = "user.add"
	ActionUserDisable   = "user.disable"
	ActionPasswordReset = "user.reset_password"
	ActionTokenCreate   = "token.create"
	ActionTokenRevoke   = "token.revoke"
	ActionImport        = "import"
	ActionExport        = "export"
)

// Execer runs a statement: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx. Audit
// takes one so a caller can write its audit row in the transaction that
// does the work, and the row exists exactly when the work was committed.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

const insertAudit = `INSERT INTO audit_log (actor, action, detail, remote_addr) VALUES ($1, $2, $3::jsonb, $4)`

// Audit records that actor did action, with detail (any JSON-encodable
// values; never a password or token secret) and the client's address
// (empty for the command line). Detail may be nil.
func Audit(ctx context.Context, q Execer, actor, action string, detail map[string]any, remote string) error {
	if action == "" {
		return fmt.Errorf("audit: empty action")
	}
	if detail == nil {
		detail = map[string]any{}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit %s: detail: %w", action, err)
	}
	if _, err := q.Exec(ctx, insertAudit, noNUL(actor), noNUL(action), string(jsonbSafe(b)), noNUL(remote)); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// noNUL replaces NUL bytes, which PostgreSQL text cannot store, with
// U+2400 (the symbol for NUL), as the importer does.
func noNUL(s string) string { return strings.ReplaceAll(s, "\x00", "\u2400") }

// jsonbSafe replaces the JSON escape \u0000, which jsonb refuses, with
// \u2400, leaving an escaped backslash followed by "u0000" alone.
func jsonbSafe(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) {
			if b[i+1] == 'u' && i+6 <= len(b) && string(b[i+2:i+6]) == "0000" {
				out = append(out, `\u2400`...)
				i += 5
				continue
			}
			out = append(out, b[i], b[i+1])
			i++
			continue
		}
		out = append(out, b[i])
	}
	return out
}

// Entry is one row of the audit log.
type Entry struct {
	ID     int64
	At     time.Time
	Actor  string
	Action string
	Detail map[string]any
	Remote string
}

const selectAudit = `SELECT id, at, actor, action, detail, remote_addr FROM audit_log
WHERE id > $1 ORDER BY id LIMIT $2`

// AuditLog returns up to limit audit rows after the row with id after, in
// order, for review and for tests.
func AuditLog(ctx context.Context, q Querier, after int64, limit int) ([]Entry, error) {
	rows, err := q.Query(ctx, selectAudit, after, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Detail, &e.Remote); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}
