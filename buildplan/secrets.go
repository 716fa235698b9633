package buildplan

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// Secrets do not belong in an image: its config (env, labels) and its
// layers (the agent config file) are readable by anyone who can pull it,
// and registries, caches and `docker history` keep them forever. jbuild
// cannot know what is secret, so it warns when a value it writes looks like
// one and the plan says how to pass it at run time instead.

// SecretAdvice ends every secret warning.
const SecretAdvice = "the image config is readable by anyone who can pull the image; pass it at run time (a Kubernetes Secret) instead"

// secretWords are name fragments that mean a credential. KEY is handled
// apart: KEYSTORE_PATH or SSL_KEY_FILE name where a key is, not the key.
var secretWords = []string{"LICENSE", "LICENCE", "TOKEN", "PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "CREDENTIAL", "APIKEY", "API_KEY", "PRIVATE_KEY", "ACCESS_KEY"}

// pathWords in a name say the value is a location, not the secret itself.
var pathWords = []string{"PATH", "FILE", "DIR", "STORE", "RING", "URL", "URI", "HOME", "NAME", "ID"}

// secretName reports whether a variable or config key name suggests a
// credential.
func secretName(name string) bool {
	n := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	if !strings.Contains(n, "KEY") {
		return false
	}
	for _, part := range strings.Split(n, "_") {
		for _, w := range pathWords {
			if part == w || strings.HasSuffix(part, w) && strings.Contains(part, "KEY") {
				return false
			}
		}
	}
	return true
}

var (
	tokenChars = regexp.MustCompile(`^[A-Za-z0-9+/=_-]+$`)
	jwt        = regexp.MustCompile(`^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$`)
	uuid       = regexp.MustCompile(`^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$`)
)

// secretToken reports whether one word of a value looks like a generated
// credential: 20+ characters of a token alphabet (base64, hex, base32)
// with an unbroken run of 16, mixing letters and digits with high entropy,
// or a JWT. GUIDs (the .NET
// profiler id), paths, versions, dotted class names and words are not.
func secretToken(s string) bool {
	if jwt.MatchString(s) && len(s) >= 30 {
		return true
	}
	if len(s) < 20 || len(s) > 4096 || uuid.MatchString(s) || !tokenChars.MatchString(s) || strings.HasPrefix(s, "-") {
		return false
	}
	// Identifiers (net_razor31_sample_production) are words joined by '_'
	// or '-'; a token has a long unbroken run.
	longest := 0
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == '-' }) {
		longest = max(longest, len(part))
	}
	if longest < 16 {
		return false
	}
	var letters, digits int
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letters++
		}
	}
	if letters < 2 || digits < 2 {
		return false
	}
	return entropy(s) >= 3.0
}

// entropy is the Shannon entropy of s in bits per character.
func entropy(s string) float64 {
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	var h float64
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}

// secretInValue reports whether a value holds a token-like word: the value
// is split into options ("-Dlicense=XXXX" gives "XXXX") so a key hidden in
// JAVA_TOOL_OPTIONS is found too.
func secretInValue(v string) bool {
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == ';' }) {
		for {
			if secretToken(w) {
				return true
			}
			_, rest, ok := strings.Cut(w, "=")
			if !ok {
				break
			}
			w = rest
		}
		if _, rest, ok := strings.Cut(w, ":"); ok && secretToken(rest) {
			return true
		}
	}
	return false
}

// secretWarnings checks what the plan writes: env values (image config) and
// the agent config file's values (a layer), by name and by value.
func secretWarnings(env []EnvChange, conf map[string]string, confPath string) []string {
	var out []string
	for _, c := range env {
		if c.After == "" || c.After == c.Before {
			continue // nothing written by jbuild
		}
		written := c.Value
		if !c.HadBefore || c.Before == "" {
			written = c.After
		}
		switch {
		case secretName(c.Name):
			out = append(out, fmt.Sprintf("env %s looks like a secret (its name): %s", c.Name, SecretAdvice))
		case secretInValue(written):
			out = append(out, fmt.Sprintf("env %s has a value that looks like a secret (a long random token): %s", c.Name, SecretAdvice))
		}
	}
	for _, k := range sortedKeys(conf) {
		v := conf[k]
		if v == "" {
			continue
		}
		switch {
		case secretName(k):
			out = append(out, fmt.Sprintf("%s in the agent config file %s looks like a secret (its name): the image's layers are readable by anyone who can pull the image, like its config; pass it at run time (a Kubernetes Secret in an env var or a mounted file) instead", k, confPath))
		case secretInValue(v):
			out = append(out, fmt.Sprintf("%s in the agent config file %s has a value that looks like a secret (a long random token): the image's layers are readable by anyone who can pull the image, like its config; pass it at run time (a Kubernetes Secret in an env var or a mounted file) instead", k, confPath))
		}
	}
	return out
}
