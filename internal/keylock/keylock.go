// Package keylock serializes work on one key within a process: callers
// that would do the same work at the same time (compress the same agent
// layer, read the same image layer) wait for the first, then find its
// result in their cache. Different keys never wait for each other.
package keylock

import "sync"

// Locks is a set of locks by key; the zero value is ready to use.
type Locks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	users int
}

// Lock takes the lock of key and returns its unlock.
func (k *Locks) Lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
