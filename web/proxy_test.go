package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestPeerOf checks whose address and scheme a request is taken to have,
// with and without trusted proxies, including headers a client forged.
func TestPeerOf(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.1, 2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		remote    string
		xff       []string
		proto     string
		wantIP    string
		wantHTTPS bool
	}{
		{"direct, no headers", "198.51.100.9:5000", nil, "", "198.51.100.9", false},
		{"direct client forges headers", "198.51.100.9:5000", []string{"203.0.113.5"}, "https", "198.51.100.9", false},
		{"one trusted proxy", "10.1.2.3:443", []string{"203.0.113.5"}, "https", "203.0.113.5", true},
		{"client forges the left of the chain", "10.1.2.3:443", []string{"1.2.3.4, 203.0.113.5"}, "http", "203.0.113.5", false},
		{"two trusted proxies", "10.1.2.3:443", []string{"203.0.113.5, 192.0.2.1"}, "https", "203.0.113.5", true},
		{"header on two lines", "10.1.2.3:443", []string{"203.0.113.5", "10.9.9.9"}, "", "203.0.113.5", false},
		{"garbage hop stops the walk", "10.1.2.3:443", []string{"203.0.113.5, not-an-ip"}, "", "10.1.2.3", false},
		{"only trusted hops", "10.1.2.3:443", []string{"10.0.0.7"}, "", "10.0.0.7", false},
		{"trusted proxy, no header", "10.1.2.3:443", nil, "", "10.1.2.3", false},
		{"IPv6 proxy and client", "[2001:db8::1]:443", []string{"[2001:db8:ffff::2]:1234, 2a00:1450::5"}, "HTTPS", "2a00:1450::5", true},
		{"IPv4-mapped peer", "[::ffff:10.1.2.3]:443", []string{"203.0.113.5"}, "", "203.0.113.5", false},
		{"proto list: nearest proxy wins", "10.1.2.3:443", []string{"203.0.113.5"}, "http, https", "203.0.113.5", true},
	}
	s := &Server{cfg: Config{TrustedProxies: trusted}}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.remote
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if tt.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		p := s.peerOf(r)
		if got := p.ip.String(); got != tt.wantIP || p.https != tt.wantHTTPS {
			t.Errorf("%s: peer = %s https=%v; want %s https=%v", tt.name, got, p.https, tt.wantIP, tt.wantHTTPS)
		}
		r = r.WithContext(withPeer(r.Context(), p))
		if got := clientIP(r); got != tt.wantIP {
			t.Errorf("%s: clientIP = %s; want %s", tt.name, got, tt.wantIP)
		}
		if got := s.secure(r); got != tt.wantHTTPS {
			t.Errorf("%s: secure = %v; want %v", tt.name, got, tt.wantHTTPS)
		}
		// Our own origin (for the CSRF Origin check and TileJSON URLs)
		// follows the scheme the client used.
		wantBase := "http://example.com"
		if tt.wantHTTPS {
			wantBase = "https://example.com"
		}
		if got, err := s.baseURL(r); err != nil || got != wantBase {
			t.Errorf("%s: baseURL = %q, %v; want %q", tt.name, got, err, wantBase)
		}
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{" 10.0.0.0/8 ,192.0.2.7", []string{"10.0.0.0/8", "192.0.2.7/32"}, false},
		{"10.1.2.3/8", []string{"10.0.0.0/8"}, false},
		{"::1", []string{"::1/128"}, false},
		{"::ffff:10.0.0.1", []string{"10.0.0.1/32"}, false},
		{"proxy.example", nil, true},
		{"10.0.0.0/33", nil, true},
		{"::ffff:10.0.0.0/104", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseTrustedProxies(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseTrustedProxies(%q) error = %v; want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseTrustedProxies(%q) = %v; want %v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i].String() != tt.want[i] {
				t.Errorf("ParseTrustedProxies(%q)[%d] = %v; want %v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

// FuzzPeerOf feeds arbitrary forwarding headers from a trusted proxy: the
// answer is always a valid address that is either the peer or one of the
// listed hops, never a panic.
func FuzzPeerOf(f *testing.F) {
	f.Add("203.0.113.5, 10.0.0.1", "https")
	f.Add("[2001:db8::1]:80,,", "http,https")
	f.Add("", "")
	f.Add("unknown, 203.0.113.5", "HTTPS ")
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	f.Fuzz(func(t *testing.T, xff, proto string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.1.2.3:443"
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("X-Forwarded-Proto", proto)
		p := s.peerOf(r)
		if !p.ip.IsValid() || !p.viaProxy {
			t.Fatalf("peerOf(%q) = %+v; want a valid address via the proxy", xff, p)
		}
		if p.ip.String() == "10.1.2.3" {
			return
		}
		found := false
		for _, h := range forwardedFor([]string{xff}) {
			if a, err := netip.ParseAddr(h); err == nil && a.Unmap() == p.ip {
				found = true
			}
		}
		if !found {
			t.Fatalf("peerOf(%q) = %s, which is neither the peer nor a listed hop", xff, p.ip)
		}
	})
}
