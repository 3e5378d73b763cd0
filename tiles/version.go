package tiles

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// versionChannel is the channel migrations' data_version trigger
// notifies at every change, with the new version as payload.
const versionChannel = "hotspot_data_version"

// MaxVersionAge is how long a data version read from the database is
// trusted without a notification: the watcher polls this often, and
// without a working watcher a request reads the version itself when the
// last reading is older.
const MaxVersionAge = time.Second

const versionSQL = `SELECT version FROM data_version`

// Versions tells the current data version (the data_version table),
// which every import, rebuild and incident write moves. It is read from
// PostgreSQL, never kept only here, so several server instances agree:
// a watcher LISTENs for the change notification (delivered at commit)
// and polls once a second besides, and a request that finds the reading
// older than MaxVersionAge (the watcher is down) reads it itself.
type Versions struct {
	pool *pgxpool.Pool
	mu   sync.Mutex
	v    atomic.Int64
	at   atomic.Int64 // unix nanoseconds of the last reading
}

// NewVersions returns a version source over pool; call Watch to keep it
// fresh by notification.
func NewVersions(pool *pgxpool.Pool) *Versions { return &Versions{pool: pool} }

// Current returns the data version.
func (vs *Versions) Current(ctx context.Context) (int64, error) {
	if time.Since(time.Unix(0, vs.at.Load())) < MaxVersionAge {
		return vs.v.Load(), nil
	}
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if time.Since(time.Unix(0, vs.at.Load())) < MaxVersionAge {
		return vs.v.Load(), nil
	}
	return vs.read(ctx)
}

func (vs *Versions) read(ctx context.Context) (int64, error) {
	var v int64
	if err := vs.pool.QueryRow(ctx, versionSQL).Scan(&v); err != nil {
		return 0, fmt.Errorf("data version: %w", err)
	}
	vs.set(v)
	return v, nil
}

func (vs *Versions) set(v int64) {
	vs.v.Store(v)
	vs.at.Store(time.Now().UnixNano())
}

// Watch keeps the version fresh until ctx ends: it holds one connection
// that LISTENs for changes and reads the version at least once every
// MaxVersionAge/2. A broken connection is replaced after a pause; until
// then requests read the version themselves.
func (vs *Versions) Watch(ctx context.Context) {
	for ctx.Err() == nil {
		err := vs.watch(ctx)
		if ctx.Err() != nil {
			return
		}
		_ = err // the readings go stale and requests read for themselves
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (vs *Versions) watch(ctx context.Context) error {
	conn, err := vs.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+versionChannel); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "UNLISTEN "+versionChannel) //nolint:errcheck // the connection goes back to the pool either way
	for {
		var v int64
		if err := conn.QueryRow(ctx, versionSQL).Scan(&v); err != nil {
			return err
		}
		vs.set(v)
		wctx, cancel := context.WithTimeout(ctx, MaxVersionAge/2)
		n, err := conn.Conn().WaitForNotification(wctx)
		cancel()
		if err == nil {
			if v, perr := strconv.ParseInt(n.Payload, 10, 64); perr == nil {
				vs.set(v)
			}
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if wctx.Err() == nil {
			return err // the connection broke
		}
	}
}
