package tiles

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

// TestTilePoolCancels checks that a tile connection whose request ends
// stops its query in PostgreSQL (a cancel request), rather than leaving
// it to run, and that the warmed connection stays usable.
func TestTilePoolCancels(t *testing.T) {
	main := storetest.DB(t)
	p, err := tilePool(context.Background(), main, mainWarmSQL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := p.Config().MaxConnLifetime; got < 12*time.Hour {
		t.Errorf("tile pool MaxConnLifetime = %v; want long-lived connections", got)
	}
	conn, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var pid int32
	if err := conn.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = conn.Exec(ctx, `SELECT pg_sleep(30)`)
	if err == nil || !(errors.Is(err, context.DeadlineExceeded) || isCanceled(err)) {
		t.Fatalf("query past its deadline: error %v; want it cancelled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled query returned after %v", d)
	}
	var active int
	if err := main.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, pid).Scan(&active); err != nil {
		t.Fatal(err)
	}
	if active != 0 {
		t.Error("the query still runs in PostgreSQL after its request ended")
	}
	var one int
	if err := conn.QueryRow(context.Background(), `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Errorf("connection after a cancel: %d, %v; want it usable", one, err)
	}
}

func isCanceled(err error) bool {
	return err != nil && (errors.Is(err, context.Canceled) || containsCode(err, "57014"))
}

func containsCode(err error, code string) bool {
	type coded interface{ SQLState() string }
	var c coded
	return errors.As(err, &c) && c.SQLState() == code
}
