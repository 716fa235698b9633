package keylock

import "testing"

func TestKeyLocksAreSeparate(t *testing.T) {
	var k Locks
	unlockA := k.Lock("a")
	done := make(chan struct{})
	go func() {
		k.Lock("b")() // another key does not wait for a
		close(done)
	}()
	<-done
	unlockA()
	if len(k.locks) != 0 {
		t.Errorf("%d locks left", len(k.locks))
	}
}
