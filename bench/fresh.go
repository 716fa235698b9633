package main

// The fresh group (n1, n2): a and c again with the agent's files just
// written, as a CI job has them when it downloads or unpacks the agent.
// jbuild remembers each agent file's SHA-256 by what stat says of it
// (internal/agent/sums.go), so a and c, which reuse one agent folder and
// change only its conf between runs, hash only that conf. A file written
// moments ago is hashed again, whole: n1 and n2 show what that costs (the
// 20 MB jar, before the layer cache can be asked whether the layer is
// known). They use an agent folder of their own, so a and c keep theirs
// remembered. They are figures beside a and c, not targets.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

const (
	sFreshNew   = "n1"
	sFreshKnown = "n2"
)

// touch gives every file of the agent folder a new change time, as a
// fresh unpacking would (a new inode and ctime); the contents stay.
func (a *agentBundle) touch() error {
	now := time.Now()
	return filepath.WalkDir(a.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chtimes(path, now, now)
	})
}

// freshOnce runs n1 (a new agent, its files just written, the 500 MB base)
// and then n2 (the same agent, its files written again, a new build of
// that base, as c).
func (b *bench) freshOnce(i int, record func(string, time.Duration)) (err error) {
	if b.freshAgent == nil {
		if b.freshAgent, err = newAgent(filepath.Join(b.tmp, "fresh-agent"), int64(b.opts.agentMB)<<20); err != nil {
			return err
		}
	}
	own := b.agent
	b.agent = b.freshAgent // b.jbuild wraps with b.agent
	defer func() { b.agent = own }()
	if err := b.agent.setNonce(fmt.Sprintf("n-%d", i)); err != nil {
		return err
	}
	if err := b.agent.touch(); err != nil {
		return err
	}
	d, err := b.jbuild(b.big, b.big+"-jennifer")
	if err != nil {
		return err
	}
	record(sFreshNew, d)
	if err := b.agent.touch(); err != nil {
		return err
	}
	src, err := b.variant(b.big, i)
	if err != nil {
		return err
	}
	if d, err = b.jbuild(src, src+"-fresh-jennifer"); err != nil {
		return err
	}
	record(sFreshKnown, d)
	return nil
}
