package e2e

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// The test agents are made at test time into dir/agent.<type>/, shaped as
// the profiles expect, and behave like an agent: they read the settings
// jbuild writes and connect to the data server, sending
// "JENNIFER domain_id=<id> agent=<type>\n".

// JavaAgent builds agent.java/: jennifer.jar (a javaagent whose premain
// reads -Djennifer.config and connects from a daemon thread) and
// conf/jennifer.conf without server_address.
func JavaAgent(dir string) (string, error) {
	jar, err := buildJar("agents/java/src", "", []string{"Premain-Class: jbuildtest.Agent"})
	if err != nil {
		return "", fmt.Errorf("java test agent: %w", err)
	}
	root := filepath.Join(dir, "agent.java")
	conf, err := os.ReadFile(filepath.Join(TestdataDir(), "agents/java/jennifer.conf"))
	if err != nil {
		return "", err
	}
	return root, writeFiles(root, map[string][]byte{"jennifer.jar": jar, "conf/jennifer.conf": conf})
}

// NodejsAgent copies agent.nodejs/ (index.js, the profile's default entry).
func NodejsAgent(dir string) (string, error) {
	root := filepath.Join(dir, "agent.nodejs")
	return root, os.CopyFS(root, os.DirFS(filepath.Join(TestdataDir(), "agents/nodejs")))
}

// PythonAgent copies agent.python/, laid out like the jennifer-python
// package: jennifer/__init__.py, jennifer/admin/sitecustomize.py and a stub
// jennifer/bin/linux/amd64/jennifer_agent.
func PythonAgent(dir string) (string, error) {
	root := filepath.Join(dir, "agent.python")
	return root, os.CopyFS(root, os.DirFS(filepath.Join(TestdataDir(), "agents/python")))
}

// PHPVersion is bookworm's PHP, on the host (php-dev) and in the PHP base.
const PHPVersion = "8.2"

// PHPAgent builds the test extension with the host's phpize (Debian
// php-dev, the same PHP as the image's) into
// agent.php/lib/jennifer5-php-8.2.x-NTS.so, next to jennifer.conf.
func PHPAgent(dir string) (string, error) {
	for _, tool := range []string{"phpize", "php-config", "make", "cc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("php test agent: %s not found; install php-dev with `apt-get install php-dev` or `make test-deps`", tool)
		}
	}
	out, err := exec.Command("php-config", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("php-config --version: %w", err)
	}
	if v := strings.TrimSpace(string(out)); !strings.HasPrefix(v, PHPVersion+".") {
		return "", fmt.Errorf("php test agent: the host's PHP is %s, the base image's is %s; the extension must be built for the image's version", v, PHPVersion)
	}
	build := filepath.Join(dir, "php-build")
	if err := os.CopyFS(build, os.DirFS(filepath.Join(TestdataDir(), "agents/php"))); err != nil {
		return "", err
	}
	for _, argv := range [][]string{{"phpize"}, {"./configure", "--enable-jbuildtest"}, {"make"}} {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = build
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("php test agent: %s: %w\n%s", strings.Join(argv, " "), err, tail(out, 4000))
		}
	}
	so, err := os.ReadFile(filepath.Join(build, "modules/jbuildtest.so"))
	if err != nil {
		return "", err
	}
	conf, err := os.ReadFile(filepath.Join(build, "jennifer.conf"))
	if err != nil {
		return "", err
	}
	root := filepath.Join(dir, "agent.php")
	return root, writeFiles(root, map[string][]byte{
		"lib/jennifer5-php-" + PHPVersion + ".x-NTS.so": so,
		"jennifer.conf": conf,
	})
}

// RealPythonVersion is the jennifer-python release the profile was checked
// against (templates/profiles/jennifer-python.yaml).
const RealPythonVersion = "5.6.5.9"

// RealPythonAgent unpacks JenniferSoft's jennifer-python wheel from PyPI
// into agent.python/. The wheel is downloaded once (pip download --no-deps)
// into TestCacheDir()/pypi.
func RealPythonAgent(dir string) (string, error) {
	cache, err := testenv.TestCacheDir()
	if err != nil {
		return "", err
	}
	cache = filepath.Join(cache, "pypi")
	whl := filepath.Join(cache, "jennifer_python-"+RealPythonVersion+"-py3-none-any.whl")
	if _, err := os.Stat(whl); err != nil {
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return "", err
		}
		cmd := exec.Command("python3", "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", cache, "jennifer-python=="+RealPythonVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("pip download jennifer-python==%s: %w\n%s", RealPythonVersion, err, tail(out, 4000))
		}
	}
	root := filepath.Join(dir, "agent.python")
	return root, unzip(whl, root)
}

func unzip(file, dst string) error {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, f := range zr.File {
		if !fs.ValidPath(strings.TrimSuffix(f.Name, "/")) {
			return fmt.Errorf("%s: bad path %q", file, f.Name)
		}
		p := filepath.Join(dst, f.Name)
		if strings.HasSuffix(f.Name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		r, err := f.Open()
		if err != nil {
			return err
		}
		w, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err == nil {
			_, err = io.Copy(w, r)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func writeFiles(root string, files map[string][]byte) error {
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
