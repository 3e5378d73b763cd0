package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/anon"
	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/geocode"
	geohotspot "github.com/harborough-csp/hotspot/geo/hotspot"
	"github.com/harborough-csp/hotspot/tiles"
	"github.com/harborough-csp/hotspot/web"
)

type serveFlags struct {
	addr        string
	basemap     string
	publicURL   string
	tileTimeout time.Duration
	proxies     string
}

// config returns the web configuration the flags describe, checked, so a
// mistake is reported before the database starts.
func (f *serveFlags) config() (web.Config, error) {
	c := web.Config{Basemap: f.basemap, PublicURL: f.publicURL, TileTimeout: f.tileTimeout}
	proxies, err := web.ParseTrustedProxies(f.proxies)
	if err != nil {
		return c, fmt.Errorf("%w: --trusted-proxy: %v", errUsage, err)
	}
	c.TrustedProxies = proxies
	if f.tileTimeout <= 0 {
		return c, fmt.Errorf("%w: --tile-timeout must be positive", errUsage)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%w: %v", errUsage, err)
	}
	return c, nil
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "addr", envOr("HOTSPOT_ADDR", "127.0.0.1:8080"), "address to listen on (env HOTSPOT_ADDR)")
	fs.StringVar(&f.basemap, "basemap", envOr("HOTSPOT_BASEMAP", "none"),
		"map background: none (works offline) or osm for OpenStreetMap raster tiles (env HOTSPOT_BASEMAP)")
	fs.StringVar(&f.publicURL, "public-url", envOr("HOTSPOT_PUBLIC_URL", ""),
		"origin clients use to reach this server, for URLs in TileJSON; default: the request's Host (env HOTSPOT_PUBLIC_URL)")
	fs.StringVar(&f.proxies, "trusted-proxy", envOr("HOTSPOT_TRUSTED_PROXIES", ""),
		"comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For/-Proto headers are believed, for rate limits, the audit log and Secure cookies (env HOTSPOT_TRUSTED_PROXIES)")
	fs.DurationVar(&f.tileTimeout, "tile-timeout", 10*time.Second, "longest a tile query may run before the client gets 503")
}

func serveCommand() *command {
	return &command{
		name:    "serve",
		summary: "serve the map, vector tiles and APIs",
		help: `Serves the Leaflet map at /, vector tiles at /tiles/{layer}/{z}/{x}/{y}.mvt,
TileJSON at /tiles/{layer}.json, and /healthz. Never creates users or loads
data by itself. Stops gracefully on SIGINT or SIGTERM: in-flight requests
finish (up to 15 s), then the embedded database, if any, shuts down.`,
		flags: func(fs *flag.FlagSet) any {
			f := &serveFlags{}
			f.register(fs)
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: serve takes no arguments", errUsage)
			}
			f := opts.(*serveFlags)
			cfg, err := f.config()
			if err != nil {
				return err
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			return serveHTTP(ctx, g, db.Pool, f.addr, cfg)
		},
	}
}

// serveHTTP serves until ctx is cancelled, then drains in-flight requests
// for up to 15 s and cuts off whatever is left, so the database can close.
func serveHTTP(ctx context.Context, g *globals, pool *pgxpool.Pool, addr string, cfg web.Config) error {
	// Public requests read through a pool of their own, as the database
	// role that can see only the anonymised data.
	pub, err := anon.PublicPool(ctx, pool)
	if err != nil {
		return err
	}
	defer pub.Close()
	// Partner records through the API or the review queue change the
	// hotspots: rebuild once a burst of changes has been quiet for 10 s
	// (at most 2 minutes after the first).
	hotspots := startDebouncer(ctx, 10*time.Second, 2*time.Minute, func(ctx context.Context) {
		if _, err := geohotspot.Rebuild(ctx, pool, geohotspot.Options{Trigger: "partner changes"}); err != nil && ctx.Err() == nil {
			g.log.Error("rebuild hotspots after partner changes", "err", err)
		}
	})
	partner := partnerService{Partner: newPartner(pool, geocode.New(pool)), pool: pool, log: g.log, hotspots: hotspots}
	routes := append(web.PoliceAPIRoutes(pub), web.PartnerRoutes(partner)...)
	routes = append(routes, web.AnalysisRoutes(pool)...)
	// Tiles: follow the data version by notification, and open and warm
	// every pooled connection before the first request.
	ts, err := tiles.Open(ctx, pool, pub)
	if err != nil {
		return err
	}
	defer ts.Close()
	go ts.Watch(ctx)
	srv, err := web.New(pool, ts, auth.New(pool), cfg, g.log, routes...)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if cfg.PublicURL == "" && !isLoopback(ln.Addr()) {
		g.log.Warn("listening beyond this machine without --public-url: TileJSON URLs follow each request's Host header; set --public-url behind a proxy")
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	g.log.Info("serving", "url", url)
	fmt.Fprintf(g.stdout, "serving the map at %s (Ctrl-C to stop)\n", url)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	g.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		g.log.Warn("requests still running after 15 s; closing their connections", "err", err)
		hs.Close() //nolint:errcheck // we are stopping either way
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
