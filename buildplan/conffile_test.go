package buildplan

import "testing"

func TestMergeConfig(t *testing.T) {
	tests := []struct {
		name             string
		base             string
		format           ConfigFormat
		values, defaults map[string]string
		want             string
	}{
		{"keyvalue replace in place, keep comments and other keys, append missing",
			"# conf\nserver_address = 127.0.0.1\r\n# log_dir = /tmp\nenable_x = true\n", FormatKeyValue,
			map[string]string{"server_address": "10.0.0.5", "log_dir": "/opt/a/logs"}, nil,
			"# conf\nserver_address = 10.0.0.5\n# log_dir = /tmp\nenable_x = true\nlog_dir = /opt/a/logs\n"},
		{"empty value keeps the bundle's",
			"server_port = 5100\n", FormatKeyValue,
			map[string]string{"server_port": ""}, map[string]string{"server_port": "5000"},
			"server_port = 5100\n"},
		{"default fills an empty key in place",
			"server_port =\nx = 1\n", FormatKeyValue,
			nil, map[string]string{"server_port": "5000"},
			"server_port = 5000\nx = 1\n"},
		{"ini: only the section, case-insensitive keys, append at the end of the section",
			"[OTHER]\nserver_address = keep\n\n[JENNIFER]\nSERVER_ADDRESS = old\nfoo: bar\n\n[TAIL]\nx = 1\n", FormatINI,
			map[string]string{"server_address": "10.0.0.5", "domain_id": "1000"}, nil,
			"[OTHER]\nserver_address = keep\n\n[JENNIFER]\nserver_address = 10.0.0.5\nfoo: bar\ndomain_id = 1000\n\n[TAIL]\nx = 1\n"},
		{"ini: section created",
			"", FormatINI,
			map[string]string{"server_address": "a"}, map[string]string{"inst_id": "-1"},
			"[JENNIFER]\nserver_address = a\ninst_id = -1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MergeConfig([]byte(tt.base), tt.format, "JENNIFER", tt.values, tt.defaults)
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if again := MergeConfig([]byte(got), tt.format, "JENNIFER", tt.values, tt.defaults); again != got {
				t.Errorf("not idempotent:\n%s", again)
			}
		})
	}
}
