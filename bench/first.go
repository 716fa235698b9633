package main

// The first wrap of a never-seen base (f1, f2): a CI runner that starts
// from nothing, or a base just released. Each run pushes a new base as the
// CI scenario builds it (the sample rootfs + 4 RUN layers of random bytes,
// USER app by name), so no layer of it is in jbuild's layer cache, plus a
// new application layer on top; jbuild wraps it with a new agent, and crane
// does the same job by hand on the same image. jbuild has to read the
// base's layers once (the user database, the folders above the agent's, the
// runtime); crane reads none, because it checks nothing.

import (
	"fmt"
	"time"
)

const (
	sFirst      = "f1"
	sFirstCrane = "f2"
)

// firstOnce runs the first-wrap scenario once (the base push is not timed).
func (b *bench) firstOnce(i int, record func(string, time.Duration)) error {
	base := fmt.Sprintf("%s/first:b%d", b.reg, i+2)
	if err := pushCIBase(base, int64(b.opts.firstMB)<<20, 4); err != nil {
		return fmt.Errorf("pushing %s: %w", base, err)
	}
	src, err := b.appBuild(base, fmt.Sprintf("%s/first:r%d", b.reg, i+2))
	if err != nil {
		return err
	}
	if err := b.jbuildAndCrane(src, fmt.Sprintf("f-%d", i), sFirst, sFirstCrane, record); err != nil {
		return err
	}
	if i < 0 { // the warm-up's outputs are checked, as verifyOutputs does for the others
		if b.haveJbuild {
			if err := verify(src, src+"-jennifer", 2); err != nil {
				return fmt.Errorf("output check: %w", err)
			}
		}
		if err := verify(src, src+"-crane", 1); err != nil {
			return fmt.Errorf("output check: %w", err)
		}
		logf("output check: %s and %s ok", src+"-jennifer", src+"-crane")
	}
	return nil
}
