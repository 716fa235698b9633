// Package faultproxy is a test-support HTTP reverse proxy that stands in
// front of a registry on loopback (a real one at its address or URL, or an
// in-process http.Handler such as testenv.RegistryHandler, so the fault
// tests run in the quick tier too) and injects the faults a flaky
// registry or network produces: 5xx answers, 429 with Retry-After,
// connections reset mid-upload, stalls, and blob bodies truncated or
// corrupted on the way down (GET) or up (upload). Faults fire at set points
// (method + path pattern + nth matching request) and at random with a
// seeded probability per request, and are counted by kind. Every request
// is logged with the status it was answered with (Requests).
//
// It is used by the fault tests of internal/wrap, cmd/jbuild and the soak
// run (bench/soak); nothing in jbuild itself imports it.
package faultproxy

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is a kind of fault.
type Kind string

// The fault kinds.
const (
	Status500 Kind = "500"
	Status502 Kind = "502"
	Status503 Kind = "503"
	// Status429 answers 429 Too Many Requests with a Retry-After header.
	Status429 Kind = "429"
	// Reset drops the connection: for a request with a body after reading
	// After bytes of it (a reset mid-upload), else after sending the
	// response headers and After bytes of the response body.
	Reset Kind = "reset"
	// Stall waits Stall (or until the client gives up) before forwarding.
	Stall Kind = "stall"
	// Truncate serves a blob GET cut to After bytes, with a Content-Length
	// that matches the short body (only the digest can tell).
	Truncate Kind = "truncate"
	// Corrupt serves a blob GET with one byte flipped.
	Corrupt Kind = "corrupt"
	// CorruptUpload forwards a blob upload body with one byte flipped.
	CorruptUpload Kind = "corrupt-upload"
)

// AllKinds lists every kind, for random faults.
var AllKinds = []Kind{Status500, Status502, Status503, Status429, Reset, Stall, Truncate, Corrupt, CorruptUpload}

// Path patterns of the distribution API, for Rule.Path.
const (
	PathPing        = `^/v2/$`
	PathManifest    = `^/v2/.+/manifests/[^/]+$`
	PathBlob        = `^/v2/.+/blobs/sha256:[0-9a-f]{64}$`
	PathUploadStart = `^/v2/.+/blobs/uploads/$`
	PathUpload      = `^/v2/.+/blobs/uploads/[^/]+$`
)

// Rule injects a fault at a set point.
type Rule struct {
	// Method matches the request method; empty matches any.
	Method string
	// Path is a regular expression on the URL path; empty matches any.
	Path string
	// Match, when set, must also accept the request (e.g. a PUT committing
	// one particular digest).
	Match func(*http.Request) bool
	// Nth is the first matching request (1-based) to fault; 0 means 1.
	Nth int
	// Times is how many consecutive matching requests, from the Nth, get
	// the fault; 0 means 1, negative means every one after (a persistent
	// fault).
	Times int
	Kind  Kind
	// After is the byte offset for Reset, Truncate, Corrupt, CorruptUpload
	// (0: the middle of the body, or 512 bytes for a streamed upload).
	After int64
	// Stall is how long Stall waits (default 30s).
	Stall time.Duration
	// RetryAfter is the Retry-After value of a 429 in seconds (default 1).
	RetryAfter int

	re   *regexp.Regexp
	seen int
}

// Stats are the proxy's counters.
type Stats struct {
	Requests int
	Faults   map[Kind]int
}

// Total is the number of faults injected.
func (s Stats) Total() int {
	n := 0
	for _, c := range s.Faults {
		n += c
	}
	return n
}

func (s Stats) String() string {
	var kinds []string
	for k := range s.Faults {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s=%d", k, s.Faults[Kind(k)]))
	}
	return fmt.Sprintf("%d requests, %d faults (%s)", s.Requests, s.Total(), strings.Join(parts, " "))
}

// Proxy is a fault-injecting reverse proxy on 127.0.0.1.
type Proxy struct {
	target string
	srv    *http.Server
	ln     net.Listener
	rt     *http.Transport
	closed chan struct{}

	// backend is the server NewHandler started for its handler.
	backend *httptest.Server

	mu       sync.Mutex
	rules    []*Rule
	rnd      *rand.Rand
	prob     float64
	kinds    []Kind
	rndStall time.Duration
	stats    Stats
	disabled bool
	requests []Request // received so far (requests.go)
}

// New starts a proxy on 127.0.0.1 at a free port in front of target, a
// plain-http registry: its address ("127.0.0.1:PORT") or URL
// ("http://127.0.0.1:PORT", as httptest.Server.URL).
func New(target string) (*Proxy, error) {
	if u, err := url.Parse(target); err == nil && u.Scheme != "" && u.Host != "" {
		if u.Scheme != "http" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("faultproxy: target %q: want host:port or an http:// URL without a path", target)
		}
		target = u.Host
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		target: target,
		ln:     ln,
		rt:     &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true},
		closed: make(chan struct{}),
		stats:  Stats{Faults: map[Kind]int{}},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// NewHandler starts a proxy in front of h, a registry served in process
// (e.g. testenv.RegistryHandler()): h is served on a loopback port of its
// own, which Close stops too, so requests reach it as they would a real
// registry (streamed bodies, connections that can be reset).
func NewHandler(h http.Handler) (*Proxy, error) {
	backend := httptest.NewServer(h)
	p, err := New(backend.URL)
	if err != nil {
		backend.Close()
		return nil, err
	}
	p.backend = backend
	return p, nil
}

// Target is the address ("127.0.0.1:PORT") of the registry behind the
// proxy: read it there to see what it holds without faults.
func (p *Proxy) Target() string { return p.target }

// Addr is the proxy's "127.0.0.1:PORT": use it as the registry host.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops the proxy; stalled requests end at once.
func (p *Proxy) Close() error {
	select {
	case <-p.closed:
	default:
		close(p.closed)
	}
	err := p.srv.Close()
	p.rt.CloseIdleConnections()
	if p.backend != nil {
		p.backend.Close()
	}
	return err
}

// Add adds set-point rules. A request gets the fault of the first rule
// that fires for it; set points take precedence over random faults.
func (p *Proxy) Add(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rules {
		r := r
		if r.Path != "" {
			r.re = regexp.MustCompile(r.Path)
		}
		p.rules = append(p.rules, &r)
	}
}

// Reset removes every rule and random setting; counters and the request
// log are kept.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.rnd, p.prob, p.kinds = nil, nil, 0, nil
}

// SetEnabled turns fault injection on or off (requests are forwarded
// untouched while off, and not counted): tests read the registry through
// the proxy without faults to check what it holds.
func (p *Proxy) SetEnabled(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.disabled = !on
}

// Random makes every request fail with probability prob, with a kind
// drawn from kinds (the ones that apply to the request) by a generator
// seeded with seed, so a run can be replayed. stall is the duration of
// random stalls.
func (p *Proxy) Random(seed int64, prob float64, stall time.Duration, kinds ...Kind) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(kinds) == 0 {
		kinds = AllKinds
	}
	p.rnd, p.prob, p.kinds, p.rndStall = rand.New(rand.NewSource(seed)), prob, kinds, stall
}

// Stats returns a copy of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Requests: p.stats.Requests, Faults: map[Kind]int{}}
	for k, v := range p.stats.Faults {
		s.Faults[k] = v
	}
	return s
}

// applies reports whether kind k can be injected into r.
func applies(k Kind, r *http.Request) bool {
	blobGET := r.Method == http.MethodGet && regexp.MustCompile(PathBlob).MatchString(r.URL.Path)
	upload := hasBody(r) && strings.Contains(r.URL.Path, "/blobs/uploads/")
	switch k {
	case Truncate, Corrupt:
		return blobGET
	case CorruptUpload:
		return upload
	case Reset:
		return blobGET || hasBody(r)
	}
	return true
}

func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// pick decides the fault for r (nil: none).
func (p *Proxy) pick(r *http.Request) *Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disabled {
		return nil
	}
	p.stats.Requests++
	// Every matching rule counts the request, whether or not an earlier
	// rule fires for it: Nth is the nth request the rule matches.
	var fire *Rule
	for _, rule := range p.rules {
		if rule.Method != "" && !strings.EqualFold(rule.Method, r.Method) {
			continue
		}
		if rule.re != nil && !rule.re.MatchString(r.URL.Path) {
			continue
		}
		if rule.Match != nil && !rule.Match(r) {
			continue
		}
		rule.seen++
		nth := max(rule.Nth, 1)
		times := rule.Times
		if times == 0 {
			times = 1
		}
		if fire != nil || rule.seen < nth || (times > 0 && rule.seen >= nth+times) || !applies(rule.Kind, r) {
			continue
		}
		fire = rule
	}
	if fire != nil {
		p.stats.Faults[fire.Kind]++
		return fire
	}
	if p.rnd != nil && p.rnd.Float64() < p.prob {
		var ok []Kind
		for _, k := range p.kinds {
			if applies(k, r) {
				ok = append(ok, k)
			}
		}
		if len(ok) > 0 {
			k := ok[p.rnd.Intn(len(ok))]
			p.stats.Faults[k]++
			return &Rule{Kind: k, Stall: p.rndStall, RetryAfter: 1, After: -1}
		}
	}
	return nil
}

func (p *Proxy) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := p.logRequest(rw, r)
	rule := p.pick(r)
	if rule == nil {
		p.forward(w, r, nil, nil)
		return
	}
	switch rule.Kind {
	case Status500, Status502, Status503:
		code, _ := strconv.Atoi(string(rule.Kind))
		io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		http.Error(w, fmt.Sprintf(`{"errors":[{"code":"UNAVAILABLE","message":"faultproxy: injected %d"}]}`, code), code)
	case Status429:
		io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		ra := rule.RetryAfter
		if ra <= 0 {
			ra = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(ra))
		http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"faultproxy: injected 429"}]}`, http.StatusTooManyRequests)
	case Stall:
		d := rule.Stall
		if d <= 0 {
			d = 30 * time.Second
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		case <-p.closed:
			return
		}
		p.forward(w, r, nil, nil)
	case Reset:
		if hasBody(r) {
			n := rule.After
			if n <= 0 {
				n = 512
			}
			io.CopyN(io.Discard, r.Body, n)
			hangUp(w, false)
			return
		}
		p.forward(w, r, nil, func(w http.ResponseWriter, resp *http.Response) {
			n := offset(rule.After, resp.ContentLength)
			copyHeader(w.Header(), resp.Header)
			w.WriteHeader(resp.StatusCode)
			io.CopyN(w, resp.Body, n)
			hangUp(w, true)
		})
	case Truncate:
		p.forward(w, r, nil, func(w http.ResponseWriter, resp *http.Response) {
			n := offset(rule.After, resp.ContentLength)
			copyHeader(w.Header(), resp.Header)
			if resp.StatusCode == http.StatusOK {
				w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
			}
			w.WriteHeader(resp.StatusCode)
			io.CopyN(w, resp.Body, n)
		})
	case Corrupt:
		p.forward(w, r, nil, func(w http.ResponseWriter, resp *http.Response) {
			copyHeader(w.Header(), resp.Header)
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, &flipper{r: resp.Body, at: offset(rule.After, resp.ContentLength)})
		})
	case CorruptUpload:
		at := rule.After
		if at < 0 || (at == 0 && r.ContentLength <= 0) {
			at = 0 // a streamed body of unknown size: flip its first byte
		} else if at == 0 {
			at = r.ContentLength / 2
		}
		if r.ContentLength > 0 && at >= r.ContentLength {
			at = r.ContentLength - 1
		}
		p.forward(w, r, &flipper{r: r.Body, at: at}, nil)
	}
}

// offset is where a body of size n is cut or flipped: at, or the middle.
func offset(at, n int64) int64 {
	if at > 0 && (n < 0 || at < n) {
		return at
	}
	if n > 1 {
		return n / 2
	}
	return 0
}

// hangUp closes the client connection without an answer (after flushing
// what was written), as a dropped connection or a crashed registry would.
func hangUp(w http.ResponseWriter, flush bool) {
	if f, ok := w.(http.Flusher); ok && flush {
		f.Flush()
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("faultproxy: response writer cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // RST rather than FIN: "connection reset by peer"
	}
	conn.Close()
}

// forward sends r to the registry (with body instead of r.Body when set)
// and writes the answer through respond (default: as is).
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, body io.Reader, respond func(http.ResponseWriter, *http.Response)) {
	if body == nil && hasBody(r) {
		body = r.Body
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-p.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	out, err := http.NewRequestWithContext(ctx, r.Method, "http://"+p.target+r.URL.RequestURI(), body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	copyHeader(out.Header, r.Header)
	out.ContentLength = r.ContentLength
	if body == nil {
		out.ContentLength = 0
	}
	// The registry builds Location URLs from Host: keep the proxy's, so
	// the client keeps talking through the proxy.
	out.Host = r.Host
	resp, err := p.rt.RoundTrip(out)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if respond != nil {
		respond(w, resp)
		return
	}
	copyHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append([]string(nil), vs...)
	}
}

// flipper passes bytes through, inverting the one at offset at.
type flipper struct {
	r   io.Reader
	at  int64
	pos int64
}

func (f *flipper) Read(b []byte) (int, error) {
	n, err := f.r.Read(b)
	if f.at >= f.pos && f.at < f.pos+int64(n) {
		b[f.at-f.pos] ^= 0xff
	}
	f.pos += int64(n)
	return n, err
}

var _ io.Reader = (*flipper)(nil)
