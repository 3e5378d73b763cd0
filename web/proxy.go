package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Behind a reverse proxy or load balancer every connection comes from the
// proxy, so the rate limits (logins, the police.uk API) would throttle all
// visitors as one, and the audit log would name the proxy. The proxy says
// who its client was in X-Forwarded-For, and whether it spoke https in
// X-Forwarded-Proto; but anyone can send those headers, so they are read
// only from peers the operator lists as trusted (--trusted-proxy CIDR).
//
// X-Forwarded-For lists addresses left to right as each proxy appended
// the one it heard from; only the right-hand end is written by proxies we
// trust, so the client is the right-most address that is not itself a
// trusted proxy. Anything left of that was written by the client and is
// ignored (it may be a lie).

// peer is what serve learns about the connection, once per request.
type peer struct {
	ip netip.Addr
	// viaProxy is set when the connection came from a trusted proxy.
	viaProxy bool
	// https is set when a trusted proxy says the client spoke https.
	https bool
}

type peerKey struct{}

// ParseTrustedProxies parses a comma-separated list of CIDRs or single
// addresses ("10.0.0.0/8, 192.0.2.7").
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: want an address or a CIDR such as 10.0.0.0/8", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want an address or a CIDR such as 10.0.0.0/8", f)
		}
		if p.Addr().Is4In6() {
			return nil, fmt.Errorf("trusted proxy %q: write IPv4 ranges as IPv4", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerOf works out the client's address and scheme for r.
func (s *Server) peerOf(r *http.Request) peer {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return peer{}
	}
	p := peer{ip: a.Unmap()}
	if !s.trusted(p.ip) {
		return p
	}
	p.viaProxy = true
	if proto := lastValue(r.Header.Values("X-Forwarded-Proto")); strings.EqualFold(proto, "https") {
		p.https = true
	}
	hops := forwardedFor(r.Header.Values("X-Forwarded-For"))
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(hops[i])
		if err != nil {
			// A hop we cannot read: stop at the last address we trust to
			// have been written honestly.
			break
		}
		p.ip = h.Unmap()
		if !s.trusted(p.ip) {
			break
		}
	}
	return p
}

// forwardedFor splits X-Forwarded-For header lines into hops, in order.
func forwardedFor(lines []string) []string {
	var hops []string
	for _, l := range lines {
		for _, h := range strings.Split(l, ",") {
			h = strings.TrimSpace(h)
			// Some proxies write IPv6 hops in brackets, some with a port.
			if ap, err := netip.ParseAddrPort(h); err == nil {
				h = ap.Addr().String()
			}
			hops = append(hops, strings.Trim(h, "[]"))
		}
	}
	return hops
}

// lastValue is the right-most comma-separated value of the header lines:
// the one the nearest proxy wrote.
func lastValue(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	vs := strings.Split(lines[len(lines)-1], ",")
	return strings.TrimSpace(vs[len(vs)-1])
}

func withPeer(ctx context.Context, p peer) context.Context {
	return context.WithValue(ctx, peerKey{}, p)
}

// clientIP is the address the rate limits and the audit log record: the
// client as a trusted proxy reported it, else the connection's peer,
// without the port.
func clientIP(r *http.Request) string {
	if p, ok := r.Context().Value(peerKey{}).(peer); ok && p.ip.IsValid() {
		return p.ip.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
