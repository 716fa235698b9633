package transport

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// A registry that is busy, restarting or rate limiting is waited out with
// backoff (DefaultBackoff: about 8 s; a Retry-After header up to 30 s).
// Silent, that wait looks like a hung command, so RegistryOptions.OnRetry
// hears of every attempt that failed and will be tried again, as `docker
// push` prints "Retrying in N seconds": which request, what the registry
// answered, and how many attempts are left.

// retryNote words a failed attempt that will be tried again, or returns ""
// when it will not be: a request replaySafe does not retry (a streamed
// PATCH, whose bytes cannot be sent twice; a cleanup made withoutRetries),
// an answer that is not retried, the last attempt.
func retryNote(r *http.Request, resp *http.Response, err error, attempt, attempts int) string {
	if attempt >= attempts || !retried(r) {
		return ""
	}
	what := r.Method + " " + r.URL.Host + r.URL.Path
	left := fmt.Sprintf("attempt %d of %d failed", attempt, attempts)
	if err != nil {
		if !retryable(err) { // a refused connection included
			return ""
		}
		return fmt.Sprintf("registry request %s: %v; trying again (%s)", what, err, left)
	}
	if !slices.Contains(RetryStatusCodes, resp.StatusCode) {
		return ""
	}
	wait := ""
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		wait = fmt.Sprintf(", after the %s the registry asks to wait", d.Round(time.Second))
	}
	return fmt.Sprintf("registry answered %s with %s; trying again%s (%s)", what, resp.Status, wait, left)
}
