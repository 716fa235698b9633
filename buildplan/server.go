package buildplan

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
)

// Checks of the data server settings a user gives (flags, build args). Each
// takes the input's name in the caller's words ("--server-address",
// "build-arg JENNIFER_SERVER_ADDRESS"), as CheckValue does, so the CLI and
// the frontend share one rule and each names its own input.

// CheckServerAddress refuses what is not a host name or an IP address. The
// value is written verbatim into the agent's config file ("server_address =
// VALUE") or an env value, and the agent resolves it at run time: "a b c",
// "10.0.0.5 # comment", "$(hostname)" or "a=b" are accepted by every line
// parser differently and never reach a server. "" is not given (the agent
// bundle's own config may set it) and passes.
func CheckServerAddress(input, addr string) error {
	if addr == "" {
		return nil
	}
	if err := CheckValue(input, addr); err != nil {
		return err
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		// A zone (fe80::1%eth0) is an interface name: nothing else.
		if z := ip.Zone(); z == "" || isHostChars(z, "_.") {
			return nil
		}
	}
	if isHostName(addr) {
		return nil
	}
	bad := func(why string) error { return fmt.Errorf("%s %q: %s", input, addr, why) }
	if inner, ok := strings.CutPrefix(addr, "["); ok && strings.HasSuffix(inner, "]") {
		if ip, err := netip.ParseAddr(strings.TrimSuffix(inner, "]")); err == nil && ip.Is6() {
			// The agents take the port apart (server_port), and not all of
			// them strip brackets before resolving (Python's socket does not).
			return bad(fmt.Sprintf("write the IPv6 address without brackets: %s", ip))
		}
	}
	if strings.Contains(addr, "://") {
		return bad("give the data server's host name or IP address, not a URL (e.g. jennifer.example.com or 10.0.0.5)")
	}
	if host, port, ok := strings.Cut(addr, ":"); ok && port != "" && strings.Trim(port, "0123456789") == "" && (isHostName(host) || isIPv4(host)) {
		return bad(fmt.Sprintf("give the host only (%s): the port is a setting of its own", host))
	}
	if strings.Trim(addr, "0123456789.") == "" {
		return bad("not a valid IPv4 address (four numbers from 0 to 255, e.g. 10.0.0.5)")
	}
	return bad("not a host name or IP address: a host name is dot-separated labels of letters, digits and '-' (RFC 1123), e.g. jennifer.example.com, 10.0.0.5 or fd00::5")
}

func isIPv4(s string) bool {
	ip, err := netip.ParseAddr(s)
	return err == nil && ip.Is4()
}

// isHostName: RFC 1123 labels of 1-63 letters, digits and '-', not starting
// or ending with '-', 253 characters at most (one trailing dot allowed, a
// fully qualified name). The last label is not all digits (RFC 1123 2.1):
// 10.0.0.300 is a wrong IPv4 address, not a host name.
func isHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' || !isHostChars(l, "-") {
			return false
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

// isHostChars: ASCII letters, digits and the extra characters only.
func isHostChars(s, extra string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(extra, r)) {
			return false
		}
	}
	return s != ""
}

// MaxDomainID is the highest domain id without a profile range: the agents
// read it as a signed 32-bit number (a Java int).
const MaxDomainID = math.MaxInt32

// DomainIDBounds is the range of domain ids the profile's agent accepts:
// domainIdRange, else 1 to MaxDomainID. 0 is never one: Options.DomainID 0
// means "not given" and is left out of the plan.
func (p *Profile) DomainIDBounds() (lo, hi int) {
	if len(p.DomainIDRange) == 2 {
		return p.DomainIDRange[0], p.DomainIDRange[1]
	}
	return 1, MaxDomainID
}

// CheckDomainID refuses a domain id the profile's agent cannot use. input
// names it in the caller's words ("--domain-id"). Callers that treat 0 as
// "not given" check only a given id.
func (p *Profile) CheckDomainID(input string, id int) error {
	lo, hi := p.DomainIDBounds()
	if id >= lo && id <= hi {
		return nil
	}
	if len(p.DomainIDRange) == 2 {
		return fmt.Errorf("%s %d: the %s agent takes domain ids from %d to %d; give the id of a domain of your data server", input, id, p.Agent, lo, hi)
	}
	return fmt.Errorf("%s %d: a domain id is a whole number from %d to %d", input, id, lo, hi)
}

// CheckServerPort refuses a data server port the profile's agent cannot
// use: 1-65535, and at most serverPortMax when the profile sets it.
func (p *Profile) CheckServerPort(input string, port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("%s %d: a TCP port is a whole number from 1 to 65535", input, port)
	}
	if p.ServerPortMax > 0 && port > p.ServerPortMax {
		return fmt.Errorf("%s %d: the %s agent cannot use ports above %d (profile %s); give the data server a lower port", input, port, p.Agent, p.ServerPortMax, p.Name)
	}
	return nil
}
