package buildplan

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
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

// secretInValue reports whether a value holds a secret: a token-like word,
// or an option that names a credential ("-Dpassword=x", "--api-token=x").
// The value is split into options, so a key hidden in JAVA_TOOL_OPTIONS is
// found too.
func secretInValue(v string) bool {
	return secretOption(v) != "" || tokenInValue(v)
}

// tokenInValue reports whether a value holds a token-like word: the value is
// split at blanks, ',', ';', ':' and '=' ("-Dlicense=XXXX" gives "XXXX",
// "-javaagent:/a.jar" gives "/a.jar", a path list gives each path).
func tokenInValue(v string) bool {
	for _, w := range strings.FieldsFunc(v, func(r rune) bool {
		return r == ' ' || r == '\t' || r == ',' || r == ';' || r == ':' || r == '='
	}) {
		if tokenLike(w) {
			return true
		}
	}
	return false
}

// tokenLike is secretToken for one word, except that an absolute path is a
// location, never a token: "/srv/apm/jennifer17/logs" is a long run of token
// characters with letters, digits and entropy, and a folder named by a
// build id ("/opt/apm/x9Kq2mW7pL4vB8nR3tY6") looks random just the same.
func tokenLike(w string) bool {
	return !absPath(w) && secretToken(w)
}

// absPath reports whether s reads as an absolute path: "/" and non-empty
// components. Base64 has '/' too, but a token starts with one only once in
// 64: missing that one is the price of not warning on every install dir.
func absPath(s string) bool {
	return len(s) > 1 && s[0] == '/' && !strings.Contains(s, "//")
}

// secretOption returns the first option in v that sets a credential by
// name ("-Dpassword=...", "-Dapi.token=...", "--db-password=..."), or "".
// Its value must look like one: a path (-Dkeystore.password.file=/run/x),
// a ${VAR} reference, a number or a boolean is not.
func secretOption(v string) string {
	for _, w := range strings.Fields(v) {
		opt, val, ok := strings.Cut(w, "=")
		if !ok || !strings.HasPrefix(opt, "-") {
			continue
		}
		name := strings.TrimLeft(opt, "-")
		if strings.HasPrefix(opt, "-D") {
			name = opt[2:] // a Java system property
		}
		if name != "" && secretName(name) && secretLooking(val) {
			return opt
		}
	}
	return ""
}

// secretLooking reports whether a value given under a credential's name can
// be the credential itself. Empty values, references to a variable the
// runtime fills in (${DB_PASSWORD}, $DB_PASSWORD, %(password)s), paths (a
// file that holds the secret, the practice jbuild recommends), booleans and
// numbers (password_masking = true, token_timeout = 30) are not.
func secretLooking(v string) bool {
	v = strings.Trim(strings.TrimSpace(v), `"'`)
	switch strings.ToLower(v) {
	case "", "true", "false", "yes", "no", "on", "off", "none", "null":
		return false
	}
	if varReference.MatchString(v) || absPath(v) || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "file:") {
		return false
	}
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return false
	}
	return true
}

// varReference is a value that only names a variable to be filled in at
// run time: shell and jbuild ${VAR}, $VAR, Python configparser %(name)s.
var varReference = regexp.MustCompile(`^(\$\{[A-Za-z_][A-Za-z0-9_.:-]*\}|\$[A-Za-z_][A-Za-z0-9_]*|%\([A-Za-z_][A-Za-z0-9_.-]*\)s)$`)

// secretWarnings checks what the plan writes: env values (image config) and
// the agent config file's values (a layer), by name and by value. conf
// holds the config keys jbuild wrote (see configSecretWarnings for the whole
// file).
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
		case secretName(c.Name) && secretLooking(written):
			out = append(out, fmt.Sprintf("env %s looks like a secret (its name): %s", c.Name, SecretAdvice))
		case secretOption(written) != "":
			out = append(out, fmt.Sprintf("env %s sets %s, which looks like a secret (its name): %s", c.Name, secretOption(written), SecretAdvice))
		case tokenInValue(written):
			out = append(out, fmt.Sprintf("env %s has a value that looks like a secret (a long random token): %s", c.Name, SecretAdvice))
		}
	}
	for _, k := range sortedKeys(conf) {
		if w := confSecretWarning(k, conf[k], confPath, ""); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// configSecretWarnings checks every key of the rendered agent config file,
// in every section: the values jbuild wrote (written, key -> value) and the
// ones the bundle's own file brought along (a license_key or db_password a
// colleague put into the agent folder ends up in the image's layer just the
// same). Each key is reported once.
func configSecretWarnings(content string, c *ConfigSpec, written map[string]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, kv := range configEntries(content, c.Format) {
		k, v := kv[0], kv[1]
		if seen[k] {
			continue
		}
		from := " (from the agent bundle's own file)"
		if w, ok := written[k]; ok && w == v {
			from = ""
		}
		if w := confSecretWarning(k, v, c.Path, from); w != "" {
			seen[k] = true
			out = append(out, w)
		}
	}
	return out
}

// confSecretWarning is the warning for one config key, or "".
func confSecretWarning(k, v, confPath, from string) string {
	const advice = "the image's layers are readable by anyone who can pull the image, like its config; pass it at run time (a Kubernetes Secret in an env var or a mounted file) instead"
	switch {
	case secretName(k) && secretLooking(v):
		return fmt.Sprintf("%s in the agent config file %s%s looks like a secret (its name): %s", k, confPath, from, advice)
	case secretOption(v) != "":
		return fmt.Sprintf("%s in the agent config file %s%s sets %s, which looks like a secret (its name): %s", k, confPath, from, secretOption(v), advice)
	case tokenInValue(v):
		return fmt.Sprintf("%s in the agent config file %s%s has a value that looks like a secret (a long random token): %s", k, confPath, from, advice)
	}
	return ""
}
