package buildplan

import (
	"strings"
	"testing"
)

func TestCheckServerAddress(t *testing.T) {
	for _, tt := range []struct{ addr, want string }{
		{"", ""}, // not given: the bundle's conf may set it
		{"10.0.0.5", ""},
		{"jennifer.example.com", ""},
		{"jennifer.example.com.", ""},
		{"apm-1", ""},
		{"JENNIFER", ""},
		{"0abc.example", ""},
		{"fd00::5", ""},
		{"::1", ""},
		{"fe80::1%eth0", ""},
		{"a b c", "not a host name or IP address"},
		{"10.0.0.5 # comment", "not a host name or IP address"},
		{"$(hostname)", "not a host name or IP address"},
		{"`id`", "not a host name or IP address"},
		{"a=b", "not a host name or IP address"},
		{"server_1.example.com", "not a host name or IP address"},
		{"-apm.example.com", "not a host name or IP address"},
		{"apm-.example.com", "not a host name or IP address"},
		{"a..b", "not a host name or IP address"},
		{strings.Repeat("a", 64) + ".com", "not a host name or IP address"},
		{strings.Repeat("a.", 127) + "com", "not a host name or IP address"},
		{"10.0.0.256", "not a valid IPv4 address"},
		{"1.2.3", "not a valid IPv4 address"},
		{"[fd00::5]", "without brackets: fd00::5"},
		{"10.0.0.5:5000", "give the host only (10.0.0.5)"},
		{"jennifer.example.com:5000", "give the host only (jennifer.example.com)"},
		{"http://jennifer.example.com", "not a URL"},
		{"fe80::1%eth0 x", "not a host name or IP address"},
		{"10.0.0.5\nlicense_key = x", "value has a newline"},
	} {
		err := CheckServerAddress("--server-address", tt.addr)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%q refused: %v", tt.addr, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), "--server-address") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one naming --server-address and saying %q", tt.addr, err, tt.want)
		}
	}
	// The caller's name for the input, as with CheckValue.
	if err := CheckServerAddress("build-arg JENNIFER_SERVER_ADDRESS", "a b"); err == nil || !strings.HasPrefix(err.Error(), `build-arg JENNIFER_SERVER_ADDRESS "a b": `) {
		t.Errorf("error %v does not name the build arg", err)
	}
}

func TestCheckDomainIDAndPort(t *testing.T) {
	jennifer, err := ParseProfile([]byte(strings.Replace(minimalProfile, "agent: TEST", "agent: JENNIFER", 1)+"domainIdRange: [1, 32767]\nserverPortMax: 32767\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ParseProfile([]byte(minimalProfile), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		p    *Profile
		id   int
		want string
	}{
		{jennifer, 1, ""},
		{jennifer, 1000, ""},
		{jennifer, 32767, ""},
		{jennifer, 0, "--domain-id 0: the JENNIFER agent takes domain ids from 1 to 32767"},
		{jennifer, 32768, "--domain-id 32768: the JENNIFER agent takes domain ids from 1 to 32767"},
		{jennifer, 2147483648, "from 1 to 32767"},
		{plain, 2147483647, ""},
		{plain, 0, "--domain-id 0: a domain id is a whole number from 1 to 2147483647"},
		{plain, 2147483648, "from 1 to 2147483647"},
	} {
		err := tt.p.CheckDomainID("--domain-id", tt.id)
		if (tt.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: CheckDomainID(%d) = %v, want %q", tt.p.Agent, tt.id, err, tt.want)
		}
	}
	for _, tt := range []struct {
		p    *Profile
		port int
		want string
	}{
		{plain, 65535, ""},
		{plain, 0, "from 1 to 65535"},
		{plain, 65536, "from 1 to 65535"},
		{jennifer, 32767, ""},
		{jennifer, 40000, "cannot use ports above 32767"},
	} {
		err := tt.p.CheckServerPort("--server-port", tt.port)
		if (tt.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: CheckServerPort(%d) = %v, want %q", tt.p.Agent, tt.port, err, tt.want)
		}
	}
	for _, r := range []string{"[1]", "[0, 10]", "[10, 1]", "[1, 2147483648]", "[1, 2, 3]"} {
		if _, err := ParseProfile([]byte(minimalProfile+"domainIdRange: "+r+"\n"), "p.yaml"); err == nil || !strings.Contains(err.Error(), "domainIdRange") {
			t.Errorf("domainIdRange %s: error %v", r, err)
		}
	}
}
