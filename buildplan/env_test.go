package buildplan

import (
	"reflect"
	"testing"
)

func TestMergeEnv(t *testing.T) {
	agentFlags := "-javaagent:/opt/a/jennifer.jar -Djennifer.config=/opt/a/conf/jennifer.conf"
	tests := []struct {
		name   string
		env    []string
		change EnvChange
		want   []string
	}{
		{"append to existing options keeps them", []string{"A=1", "JAVA_TOOL_OPTIONS=-Xmx512m"},
			EnvChange{Name: "JAVA_TOOL_OPTIONS", Op: EnvAppend, Separator: " ", Value: agentFlags},
			[]string{"A=1", "JAVA_TOOL_OPTIONS=-Xmx512m " + agentFlags}},
		{"append when unset adds at the end", []string{"A=1"},
			EnvChange{Name: "JAVA_TOOL_OPTIONS", Op: EnvAppend, Separator: " ", Value: agentFlags},
			[]string{"A=1", "JAVA_TOOL_OPTIONS=" + agentFlags}},
		{"token sequence already present anywhere", []string{"JAVA_TOOL_OPTIONS=" + agentFlags + " -Xmx1g"},
			EnvChange{Name: "JAVA_TOOL_OPTIONS", Op: EnvAppend, Separator: " ", Value: agentFlags},
			[]string{"JAVA_TOOL_OPTIONS=" + agentFlags + " -Xmx1g"}},
		{"partial token sequence is not present", []string{"JAVA_TOOL_OPTIONS=-javaagent:/opt/a/jennifer.jar"},
			EnvChange{Name: "JAVA_TOOL_OPTIONS", Op: EnvAppend, Separator: " ", Value: agentFlags},
			[]string{"JAVA_TOOL_OPTIONS=-javaagent:/opt/a/jennifer.jar " + agentFlags}},
		{"no double space after trailing blank", []string{"NODE_OPTIONS=--inspect "},
			EnvChange{Name: "NODE_OPTIONS", Op: EnvAppend, Separator: " ", Value: "--require /x.js"},
			[]string{"NODE_OPTIONS=--inspect --require /x.js"}},
		{"path list keeps entries", []string{"PYTHONPATH=/app:/lib"},
			EnvChange{Name: "PYTHONPATH", Op: EnvAppend, Separator: ":", Value: "/opt/j/admin"},
			[]string{"PYTHONPATH=/app:/lib:/opt/j/admin"}},
		{"prepend path", []string{"PYTHONPATH=/app"},
			EnvChange{Name: "PYTHONPATH", Op: EnvPrepend, Separator: ":", Value: "/opt/j"},
			[]string{"PYTHONPATH=/opt/j:/app"}},
		{"prepend keeps a leading empty element first", []string{"PHP_INI_SCAN_DIR=:/etc/x"},
			EnvChange{Name: "PHP_INI_SCAN_DIR", Op: EnvPrepend, Separator: ":", Value: "/opt/php.d"},
			[]string{"PHP_INI_SCAN_DIR=:/opt/php.d:/etc/x"}},
		{"element already present", []string{"PYTHONPATH=/opt/j/admin:/app"},
			EnvChange{Name: "PYTHONPATH", Op: EnvAppend, Separator: ":", Value: "/opt/j/admin"},
			[]string{"PYTHONPATH=/opt/j/admin:/app"}},
		{"prefix of an element is not the element", []string{"PYTHONPATH=/opt/j/admin2"},
			EnvChange{Name: "PYTHONPATH", Op: EnvAppend, Separator: ":", Value: "/opt/j/admin"},
			[]string{"PYTHONPATH=/opt/j/admin2:/opt/j/admin"}},
		{"valueIfUnset when unset", nil,
			EnvChange{Name: "PHP_INI_SCAN_DIR", Op: EnvAppend, Separator: ":", Value: "/opt/php.d", ValueIfUnset: ":/opt/php.d"},
			[]string{"PHP_INI_SCAN_DIR=:/opt/php.d"}},
		{"valueIfUnset ignored when set", []string{"PHP_INI_SCAN_DIR=/etc/php/conf.d"},
			EnvChange{Name: "PHP_INI_SCAN_DIR", Op: EnvAppend, Separator: ":", Value: "/opt/php.d", ValueIfUnset: ":/opt/php.d"},
			[]string{"PHP_INI_SCAN_DIR=/etc/php/conf.d:/opt/php.d"}},
		{"default keeps image value", []string{"ARIES_SERVER_PORT=6000"},
			EnvChange{Name: "ARIES_SERVER_PORT", Op: EnvDefault, Value: "5000"},
			[]string{"ARIES_SERVER_PORT=6000"}},
		{"default fills an empty value in place", []string{"X=", "Y=1"},
			EnvChange{Name: "X", Op: EnvDefault, Value: "v"},
			[]string{"X=v", "Y=1"}},
		{"set replaces in place", []string{"A=1", "CORECLR_ENABLE_PROFILING=0", "B=2"},
			EnvChange{Name: "CORECLR_ENABLE_PROFILING", Op: EnvSet, Value: "1"},
			[]string{"A=1", "CORECLR_ENABLE_PROFILING=1", "B=2"}},
		{"duplicate names: the last one is merged", []string{"P=/a", "P=/b"},
			EnvChange{Name: "P", Op: EnvAppend, Separator: ":", Value: "/c"},
			[]string{"P=/a", "P=/b:/c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]string(nil), tt.env...)
			got, changes := MergeEnv(in, []EnvChange{tt.change})
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(in, tt.env) {
				t.Errorf("input modified: %q", in)
			}
			if len(changes) != 1 {
				t.Fatalf("changes: %v", changes)
			}
			before, had := envValue(tt.env, tt.change.Name)
			if changes[0].Before != before || changes[0].HadBefore != had {
				t.Errorf("Before=%q/%v, want %q/%v", changes[0].Before, changes[0].HadBefore, before, had)
			}
			if after, _ := envValue(got, tt.change.Name); changes[0].After != after {
				t.Errorf("After=%q, want %q", changes[0].After, after)
			}
			again, _ := MergeEnv(got, []EnvChange{tt.change})
			if !reflect.DeepEqual(again, got) {
				t.Errorf("not idempotent: %q then %q", got, again)
			}
		})
	}
}
