package agent

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
)

// A download is cached by content: the archive is stored as
// downloads/<sha256>, and a small record per URL remembers which content
// the URL served last and its ETag/Last-Modified. The next Open asks the
// server whether that is still current (a conditional GET answered with
// 304 costs no body), so ".../latest" is followed when the agent is
// upgraded on the view server but downloaded only when it changed.

type urlRecord struct {
	URL          string `json:"url"` // without credentials or query
	SHA256       string `json:"sha256"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
}

// openURL downloads (or revalidates) the agent archive at rawURL and reads it.
func openURL(ctx context.Context, rawURL string, opts Options) (*Bundle, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("agent URL %q: %w", redact(rawURL), err)
	}
	shown := redactURL(u)
	file, err := download(ctx, u, shown, opts)
	if err != nil {
		return nil, err
	}
	return openArchive(ctx, file, shown, versionFromURL(u), opts)
}

func download(ctx context.Context, u *url.URL, shown string, opts Options) (string, error) {
	key := sha256.Sum256([]byte(u.String()))
	recPath := cachePath(opts, "downloads", fmt.Sprintf("url-%x.json", key))
	var rec urlRecord
	cached := ""
	if b, err := os.ReadFile(recPath); err == nil && json.Unmarshal(b, &rec) == nil && rec.SHA256 != "" {
		if _, err := os.Stat(cachePath(opts, "downloads", rec.SHA256)); err == nil {
			cached = cachePath(opts, "downloads", rec.SHA256)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("downloading agent from %s: %w", shown, err)
	}
	if cached != "" {
		if rec.ETag != "" {
			req.Header.Set("If-None-Match", rec.ETag)
		}
		if rec.LastModified != "" {
			req.Header.Set("If-Modified-Since", rec.LastModified)
		}
	}
	client := *opts.HTTPClient
	client.CheckRedirect = redirectPolicy(client.CheckRedirect)
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("downloading agent from %s: %w (is the view server reachable? or download the zip and pass the file)", shown, redactErr(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != "":
		return cached, nil
	case resp.StatusCode != http.StatusOK:
		hint := ""
		if resp.StatusCode == http.StatusNotFound {
			hint = " (the view server serves /download/agent/<java|dotnet|php>/<version|latest>)"
		}
		return "", fmt.Errorf("downloading agent from %s: HTTP %s%s", shown, resp.Status, hint)
	}
	tmp, err := createTemp(cachePath(opts, "downloads", "download"))
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	h := sha256.New()
	// The download itself is bounded too: an archive bigger than what it
	// may expand to is not an agent.
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, opts.MaxExpandedSize+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("downloading agent from %s: %w", shown, redactErr(err))
	}
	if n > opts.MaxExpandedSize {
		return "", fmt.Errorf("downloading agent from %s: larger than %d bytes; refusing it", shown, opts.MaxExpandedSize)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return "", fmt.Errorf("downloading agent from %s: got %d of %d bytes (connection cut?); try again", shown, n, resp.ContentLength)
	}
	sum := fmt.Sprintf("%x", h.Sum(nil))
	dest := cachePath(opts, "downloads", sum)
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return "", fmt.Errorf("caching agent download from %s: %w", shown, err)
	}
	rec = urlRecord{URL: shown, SHA256: sum, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	b, _ := json.MarshalIndent(rec, "", "  ")
	if err := writeFileAtomic(recPath, b); err != nil {
		return "", fmt.Errorf("caching agent download from %s: %w", shown, err)
	}
	return dest, nil
}

// redactURL drops what may be a secret (user:password, a token in the
// query, the fragment): the result goes into labels and messages.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	c.Fragment = ""
	c.RawFragment = ""
	return c.String()
}

func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return redactURL(u)
	}
	return "(unparsable URL)"
}

// redactErr keeps net/http errors, which quote the full URL, from leaking it.
func redactErr(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s", ue.Err)
	}
	return err
}

var versionRE = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+)+$`)

// versionFromURL reads the version from a view server download URL
// (/download/agent/java/5.6.4.2); "latest" says nothing.
func versionFromURL(u *url.URL) string {
	if v := path.Base(u.Path); versionRE.MatchString(v) {
		return v
	}
	return ""
}
