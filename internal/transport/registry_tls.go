package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// Registries with a private certificate authority are trusted the way
// Docker trusts them: a folder named after the registry (host:port, or
// host) under a certs.d directory holds its CA certificates (*.crt) and,
// for registries that ask for a client certificate, a key pair (NAME.cert
// and NAME.key). jbuild reads the folders Docker reads: /etc/docker/certs.d
// and, for rootless Docker, $XDG_CONFIG_HOME/docker/certs.d
// (~/.config/docker/certs.d). SSL_CERT_FILE and SSL_CERT_DIR extend the
// system roots as for any Go program.

// certsDirs are the certs.d directories, most specific first.
func certsDirs() []string {
	var dirs []string
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		dirs = append(dirs, filepath.Join(x, "docker", "certs.d"))
	} else if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".config", "docker", "certs.d"))
	}
	return append(dirs, "/etc/docker/certs.d")
}

// registryTLS returns the TLS settings for a registry at addr (host:port)
// from the first certs.d folder that names it, or nil when none does.
func registryTLS(dirs []string, addr string) (*tls.Config, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	names := []string{addr}
	if port == "443" {
		names = append(names, host) // Docker's folder for the default port
	}
	for _, d := range dirs {
		for _, n := range names {
			dir := filepath.Join(d, n)
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				continue
			}
			cfg, err := loadCertsDir(dir)
			if err != nil {
				return nil, fmt.Errorf("reading the TLS files for %s in %s: %w", addr, dir, err)
			}
			cfg.ServerName = host
			return cfg, nil
		}
	}
	return nil, nil
}

// loadCertsDir reads one registry's folder: every *.crt is a CA added to
// the system roots, and each NAME.cert needs its NAME.key.
func loadCertsDir(dir string) (*tls.Config, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		switch {
		case strings.HasSuffix(name, ".crt"):
			pemData, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			if !roots.AppendCertsFromPEM(pemData) {
				return nil, fmt.Errorf("%s holds no PEM certificate", name)
			}
		case strings.HasSuffix(name, ".cert"):
			keyName := strings.TrimSuffix(name, ".cert") + ".key"
			pair, err := tls.LoadX509KeyPair(path, filepath.Join(dir, keyName))
			if err != nil {
				return nil, fmt.Errorf("client certificate %s (with %s): %w", name, keyName, err)
			}
			cfg.Certificates = append(cfg.Certificates, pair)
		case strings.HasSuffix(name, ".key"):
			if _, err := os.Stat(strings.TrimSuffix(path, ".key") + ".cert"); err != nil {
				return nil, fmt.Errorf("%s has no matching %s", name, strings.TrimSuffix(name, ".key")+".cert")
			}
		}
	}
	return cfg, nil
}

// withCertsDirs makes t dial TLS with a registry's certs.d settings where
// a folder names it. Only when some certs.d directory has a registry's
// folder: otherwise t is left exactly as it is (HTTP/2 included); with
// one, TLS connections use HTTP/1.1, which every registry speaks.
// Connections through a proxy use t's TLS settings (net/http does the TLS
// of a proxy tunnel itself).
func withCertsDirs(t *http.Transport, dirs []string) *http.Transport {
	var present []string
	for _, d := range dirs {
		if entries, err := os.ReadDir(d); err == nil && len(entries) > 0 {
			present = append(present, d)
		}
	}
	if len(present) == 0 {
		return t
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		cfg, err := registryTLS(present, addr)
		if err != nil {
			return nil, err
		}
		if cfg == nil {
			host, _, _ := net.SplitHostPort(addr)
			cfg = &tls.Config{ServerName: host}
			if t.TLSClientConfig != nil {
				cfg = t.TLSClientConfig.Clone()
				if cfg.ServerName == "" {
					cfg.ServerName = host
				}
			}
		}
		cfg.NextProtos = []string{"http/1.1"} // a custom dial gets no HTTP/2 from net/http
		return (&tls.Dialer{NetDialer: dialer, Config: cfg}).DialContext(ctx, network, addr)
	}
	return t
}

// tlsHint tells the user what to do when a registry's certificate is not
// trusted.
func tlsHint(err error, ref name.Reference) string {
	var uerr x509.UnknownAuthorityError
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &uerr) && !errors.As(err, &verr) {
		return ""
	}
	return fmt.Sprintf(" (the registry's certificate is not trusted: if it comes from your own CA, put the CA in /etc/docker/certs.d/%s/ca.crt as for Docker, or point SSL_CERT_FILE at it)", ref.Context().RegistryStr())
}
