// Package auth keeps the server's users, their browser sessions and API
// tokens, the rate limit on failed sign-ins, and the audit log, all in
// PostgreSQL (migrations/0002_create_users.sql).
//
// Three audiences use the map: the police (precise incidents), analysts
// and administrators, each a Role; everyone else is the anonymous public.
// A user has exactly one role. Package web decides which role may use
// which route; this package only says who a request comes from. It
// implements the small interface web declares (Login, Session, Logout,
// Token) with plain strings, so that neither package imports the other.
//
// State lives in the database rather than in memory so that several server
// instances behind a load balancer agree: a session started on one is valid
// on another, a disabled user is locked out everywhere at once, and the
// failed-sign-in limit (5 per user name, 20 per client address, in 15
// minutes) counts attempts made against any of them. Every time is the
// database's now() for the same reason.
//
// Secrets are never stored usable: passwords are argon2id PHC strings;
// session ids and API token secrets are stored as their SHA-256 (both are
// 32 random bytes, so a fast hash is enough: there is nothing to guess).
//
// Audit writes one audit_log row and takes anything with Exec, so that
// other capabilities (imports, exports) can record their action inside
// their own transaction: it is then logged if and only if it happened.
package auth
