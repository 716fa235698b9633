package frontend

import (
	"context"
	"io/fs"
	"slices"
	"sync"
	"testing"

	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	fstypes "github.com/tonistiigi/fsutil/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/jbuild-dev/jbuild/templates"
)

// statRef is a gateway reference that answers StatFile from a list of
// folders and counts the questions; nothing else is called.
type statRef struct {
	gwclient.Reference
	dirs map[string]bool

	mu    sync.Mutex
	asked []string
}

func (r *statRef) StatFile(_ context.Context, req gwclient.StatRequest) (*fstypes.Stat, error) {
	r.mu.Lock()
	r.asked = append(r.asked, req.Path)
	r.mu.Unlock()
	if !r.dirs[req.Path] {
		return nil, status.Error(codes.NotFound, "no such file or directory")
	}
	return &fstypes.Stat{Path: req.Path, Mode: uint32(fs.ModeDir | 0o755)}, nil
}

func TestPrefetchInstallDirsWalksDown(t *testing.T) {
	java, err := templates.Lookup("jennifer-java")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		dirs  []string
		known bool // the agent's profile (jennifer-java) is known
		want  []string
	}{
		{name: "no /opt", want: []string{"/opt"}},
		{
			name: "an /opt of the base's own, no profile known",
			dirs: []string{"/opt", "/opt/app"},
			want: []string{"/opt", "/opt/jennifer", "/opt/opentelemetry", "/opt/opentelemetry-nodejs"},
		},
		{
			name: "an earlier agent's folders, no profile known",
			dirs: []string{"/opt", "/opt/jennifer"},
			want: []string{"/opt", "/opt/jennifer", "/opt/jennifer/agent.dotnet", "/opt/jennifer/agent.java",
				"/opt/jennifer/agent.nodejs", "/opt/jennifer/agent.php", "/opt/jennifer/agent.python",
				"/opt/opentelemetry", "/opt/opentelemetry-nodejs"},
		},
		{
			name: "an earlier agent's folders, the Java profile known", known: true,
			dirs: []string{"/opt", "/opt/jennifer"},
			want: []string{"/opt", "/opt/jennifer", "/opt/jennifer/agent.java"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := &statRef{dirs: map[string]bool{}}
			for _, d := range tc.dirs {
				ref.dirs[d] = true
			}
			fsys := newRefFS(context.Background(), ref, "/")
			if tc.known {
				prefetchInstallDirs(fsys, java)()
			} else {
				prefetchInstallDirs(fsys, nil)()
			}
			slices.Sort(ref.asked)
			if !slices.Equal(ref.asked, tc.want) {
				t.Errorf("stats asked for:\n  %v\nwant (each once, children only of folders that exist):\n  %v", ref.asked, tc.want)
			}
			// Planning's own stats of those paths are answered from memory.
			n := len(ref.asked)
			for _, p := range tc.want {
				fsys.lstat(p)
			}
			if len(ref.asked) != n {
				t.Errorf("planning asked again: %v", ref.asked[n:])
			}
		})
	}
}
