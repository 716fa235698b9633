package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// TokenServer is the token service of a registry with token auth, the
// scheme of Docker Hub, GHCR, ECR and GCR: the registry answers 401 with
// a Bearer challenge, the client asks the token service for the scopes it
// needs (with the user's password), and presents the token it gets. This
// one grants every scope asked for to the one user it knows, and counts
// what it was asked.
type TokenServer struct {
	user, password string
	key            *ecdsa.PrivateKey
	cert           []byte // DER, self-signed: the registry's root bundle
	srv            *http.Server
	realm          string

	mu     sync.Mutex
	scopes []string // every scope asked for, in order
}

// tokenService and tokenIssuer name the service and the issuer in the
// registry's configuration and in every token.
const (
	tokenService = "jbuild-test-registry"
	tokenIssuer  = "jbuild-test-token-server"
)

// tokenConfig is the registry configuration's auth section for token auth.
const tokenConfig = `auth:
  token:
    realm: %s
    service: ` + tokenService + `
    issuer: ` + tokenIssuer + `
    rootcertbundle: %s
`

// StartTokenRegistry starts a registry with token auth and its token
// server, both on loopback; stop ends both.
func StartTokenRegistry(user, password string) (addr string, ts *TokenServer, stop func(), err error) {
	bin, err := registryBinary()
	if err != nil {
		return "", nil, nil, err
	}
	ts, err = startTokenServer(user, password)
	if err != nil {
		return "", nil, nil, fmt.Errorf("starting the token server: %w", err)
	}
	addr, stopRegistry, err := startRegistry(bin, serverOptions{auth: func(dir string) (string, error) {
		bundle := filepath.Join(dir, "token-root.pem")
		pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.cert})
		if err := os.WriteFile(bundle, pemCert, 0o600); err != nil {
			return "", err
		}
		return fmt.Sprintf(tokenConfig, ts.realm, bundle), nil
	}})
	if err != nil {
		ts.srv.Close()
		return "", nil, nil, err
	}
	return addr, ts, func() { stopRegistry(); ts.srv.Close() }, nil
}

func startTokenServer(user, password string) (*TokenServer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: tokenIssuer},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// The realm names the server as localhost: ggcr refuses a token realm
	// on a private or loopback IP literal other than the registry's own
	// host:port (a guard against a registry sending credentials to an
	// internal address), and a name is not checked that way.
	port := ln.Addr().(*net.TCPAddr).Port
	ts := &TokenServer{user: user, password: password, key: key, cert: cert,
		realm: fmt.Sprintf("http://localhost:%d/token", port)}
	ts.srv = &http.Server{Handler: http.HandlerFunc(ts.serveToken), ReadHeaderTimeout: 10 * time.Second}
	go ts.srv.Serve(ln)
	return ts, nil
}

// Scopes returns every scope the server was asked for so far.
func (ts *TokenServer) Scopes() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.scopes...)
}

// access is one grant of a token's "access" claim.
type access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

func (ts *TokenServer) serveToken(w http.ResponseWriter, r *http.Request) {
	user, password, ok := r.BasicAuth()
	if !ok || user != ts.user || password != ts.password {
		http.Error(w, `{"details":"wrong user or password"}`, http.StatusUnauthorized)
		return
	}
	var grants []access
	for _, scope := range r.URL.Query()["scope"] {
		ts.mu.Lock()
		ts.scopes = append(ts.scopes, scope)
		ts.mu.Unlock()
		// type:name:actions; a name may hold a port's colon, the actions
		// never do.
		first, last := strings.Index(scope, ":"), strings.LastIndex(scope, ":")
		if first < 0 || last == first {
			http.Error(w, "bad scope "+scope, http.StatusBadRequest)
			return
		}
		grants = append(grants, access{Type: scope[:first], Name: scope[first+1 : last], Actions: strings.Split(scope[last+1:], ",")})
	}
	token, err := ts.sign(user, r.URL.Query().Get("service"), grants)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token": token, "access_token": token, "expires_in": 300,
		"issued_at": time.Now().UTC().Format(time.RFC3339)})
}

// sign makes an ES256 JWT carrying its certificate (x5c), which is how
// distribution checks a token against its root bundle.
func (ts *TokenServer) sign(subject, audience string, grants []access) (string, error) {
	now := time.Now()
	header, err := json.Marshal(map[string]any{"typ": "JWT", "alg": "ES256",
		"x5c": []string{base64.StdEncoding.EncodeToString(ts.cert)}})
	if err != nil {
		return "", err
	}
	jti := make([]byte, 8)
	rand.Read(jti)
	claims, err := json.Marshal(map[string]any{"iss": tokenIssuer, "sub": subject, "aud": audience,
		"exp": now.Add(5 * time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(),
		"jti": fmt.Sprintf("%x", jti), "access": grants})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	payload := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(payload))
	r, s, err := ecdsa.Sign(rand.Reader, ts.key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64) // JWS ES256: r and s, 32 bytes each
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return payload + "." + enc.EncodeToString(sig), nil
}
