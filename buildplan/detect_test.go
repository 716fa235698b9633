package buildplan

import "testing"

func TestRuntimeFromConfig(t *testing.T) {
	tests := []struct {
		entrypoint, cmd, env []string
		want                 Runtime
		conclusive           bool
	}{
		{[]string{"java", "-jar", "a.jar"}, nil, nil, RuntimeJava, true},
		{nil, []string{"/bin/sh", "-c", "exec java -jar a.jar"}, nil, RuntimeJava, true},
		{nil, []string{"sh", "-ec", `"node" server.js`}, nil, RuntimeNodejs, true},
		{[]string{"/usr/bin/tini", "--"}, []string{"python3.11", "app.py"}, nil, RuntimePython, true},
		{[]string{"dumb-init", "--single-child", "gosu", "app", "dotnet", "a.dll"}, nil, nil, RuntimeDotnet, true},
		{[]string{"docker-php-entrypoint"}, []string{"php-fpm"}, nil, RuntimePHP, true},
		{[]string{"docker-entrypoint.sh"}, []string{"npm", "start"}, nil, RuntimeNodejs, true},
		{nil, []string{"uvicorn", "main:app"}, nil, RuntimePython, true},
		{[]string{"env", "FOO=1", "php8.2", "-S", "x"}, nil, nil, RuntimePHP, true},
		{[]string{"/app/server"}, nil, []string{"ASPNETCORE_URLS=http://+:80"}, RuntimeDotnet, true},
		{[]string{"/start.sh"}, nil, []string{"JAVA_HOME=/j", "NODE_VERSION=20"}, RuntimeUnknown, false},
		{[]string{"/app/server"}, nil, nil, RuntimeUnknown, false},
		{[]string{"/docker-entrypoint.sh"}, nil, []string{"PHP_VERSION=8.2.1"}, RuntimePHP, true},
	}
	for _, tt := range tests {
		f, conclusive := runtimeFromConfig(tt.entrypoint, tt.cmd, tt.env)
		if Runtime(f.Value) != tt.want || conclusive != tt.conclusive {
			t.Errorf("%q %q %q: got %q/%v, want %q/%v (%v)", tt.entrypoint, tt.cmd, tt.env, f.Value, conclusive, tt.want, tt.conclusive, f.Evidence)
		}
		if len(f.Evidence) == 0 {
			t.Errorf("%q: no evidence", tt.entrypoint)
		}
	}
}

func TestMajorMinor(t *testing.T) {
	for in, want := range map[string]string{
		"8.2.13": "8.2", "jdk-17.0.9+9": "17.0", "3.11": "3.11", "8u292": "8", "21": "21", "": "",
	} {
		if got := majorMinor(in); got != want {
			t.Errorf("majorMinor(%q) = %q, want %q", in, got, want)
		}
	}
}
