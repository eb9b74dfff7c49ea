package local

import (
	"slices"
	"strings"
	"sync"

	"github.com/callfn/callfn/shared/store"
)

// NewMemory returns a Store that lives in this process only.
func NewMemory(opts store.Options) store.Store {
	m := &memKV{data: map[string]map[string][]byte{}}
	for _, b := range Buckets() {
		m.data[b] = map[string][]byte{}
	}
	return New(m, opts)
}

// memKV serializes every transaction behind one lock. An update writes to
// a journal first and applies it only when the transaction succeeds.
type memKV struct {
	mu   sync.RWMutex
	data map[string]map[string][]byte
}

type memTx struct {
	m       *memKV
	pending map[[2]string]memWrite
}

// memWrite is one journalled write: a value, or a deletion.
type memWrite struct {
	val     []byte
	deleted bool
}

func (m *memKV) Update(fn func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memTx{m: m, pending: map[[2]string]memWrite{}}
	if err := fn(tx); err != nil {
		return err
	}
	for k, w := range tx.pending {
		if w.deleted {
			delete(m.data[k[0]], k[1])
		} else {
			m.data[k[0]][k[1]] = w.val
		}
	}
	return nil
}

func (m *memKV) Batch(fn func(Tx) error) error { return m.Update(fn) }

func (m *memKV) View(fn func(Tx) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return fn(&memTx{m: m})
}

func (m *memKV) Close() error { return nil }

func (t *memTx) Get(bucket, key string) []byte {
	if w, ok := t.pending[[2]string{bucket, key}]; ok {
		if w.deleted {
			return nil
		}
		return w.val
	}
	return t.m.data[bucket][key]
}

func (t *memTx) Put(bucket, key string, val []byte) error {
	t.pending[[2]string{bucket, key}] = memWrite{val: slices.Clone(val)}
	return nil
}

func (t *memTx) Delete(bucket, key string) error {
	t.pending[[2]string{bucket, key}] = memWrite{deleted: true}
	return nil
}

// Scan sees the transaction's own writes, as bbolt's does.
func (t *memTx) Scan(bucket, prefix string, fn func(string, []byte) error) error {
	var keys []string
	for k := range t.m.data[bucket] {
		if _, written := t.pending[[2]string{bucket, k}]; !written && strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	for k, w := range t.pending {
		if k[0] == bucket && !w.deleted && strings.HasPrefix(k[1], prefix) {
			keys = append(keys, k[1])
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn(k, t.Get(bucket, k)); err != nil {
			return err
		}
	}
	return nil
}
