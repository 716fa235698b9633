package agent

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"time"
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

// download returns the agent archive at u from the cache: downloaded now,
// or the cached copy when the server says it is still current. Failures
// another try may fix are tried again, opts.DownloadAttempts times in all,
// with a growing pause; only GET is ever sent, so trying again is safe.
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
	client, done := downloadClient(opts)
	defer done()
	var got fetched
	for attempt := 1; ; attempt++ {
		var err error
		got, err = fetch(ctx, client, u, rec, cached, opts)
		if err == nil {
			break
		}
		var ae *attemptError
		if !errors.As(err, &ae) {
			return "", fmt.Errorf("downloading agent from %s: %w", shown, err)
		}
		if !ae.retry || attempt >= opts.DownloadAttempts {
			return "", attemptsError(shown, ae, attempt)
		}
		if !pause(ctx, retryDelay<<(attempt-1)) {
			return "", fmt.Errorf("downloading agent from %s: %w", shown, ctx.Err())
		}
	}
	if !got.fresh {
		touch(got.path)
		touch(recPath)
		return got.path, nil
	}
	rec = urlRecord{URL: shown, SHA256: filepath.Base(got.path), ETag: got.etag, LastModified: got.lastModified}
	b, _ := json.MarshalIndent(rec, "", "  ")
	if err := writeFileAtomic(recPath, b); err != nil {
		return "", fmt.Errorf("caching agent download from %s: %w", shown, err)
	}
	trimCache(opts, got.path, recPath)
	return got.path, nil
}

// retryDelay is the pause before the second attempt, doubled before each
// next one. A variable for tests only.
var retryDelay = time.Second

// pause waits d, or less when ctx ends (then it returns false).
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// attemptsError is the error of the last attempt, with the URL, how many
// attempts were made and the hint.
func attemptsError(shown string, ae *attemptError, attempts int) error {
	tries, hint := "", ""
	if attempts > 1 {
		tries = fmt.Sprintf(", tried %d times", attempts)
	}
	if ae.hint != "" {
		hint = " (" + ae.hint + ")"
	}
	return fmt.Errorf("downloading agent from %s: %w%s%s", shown, ae.err, tries, hint)
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
