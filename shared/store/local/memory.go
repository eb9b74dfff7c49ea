package local

import (
	"slices"
	"strings"
	"sync"

	"github.com/callfn/callfn/shared/store"
)

// NewMemory returns a Store that lives in this process only.
func NewMemory(opts store.Options) store.Store {
	m := &memKV{buckets: map[string]*memBucket{}}
	for _, b := range Buckets() {
		m.buckets[b] = &memBucket{vals: map[string][]byte{}}
	}
	st, err := New(m, opts)
	if err != nil {
		panic(err) // an empty memory table has nothing to index
	}
	return st
}

// memKV serializes every transaction behind one lock. An update writes to
// a journal first and applies it only when the transaction succeeds.
type memKV struct {
	mu      sync.RWMutex
	buckets map[string]*memBucket
}

// memBucket keeps its keys sorted, so that a seek is a binary search.
type memBucket struct {
	vals map[string][]byte
	keys []string // sorted
}

func (b *memBucket) put(key string, val []byte) {
	if _, ok := b.vals[key]; !ok {
		i, _ := slices.BinarySearch(b.keys, key)
		b.keys = slices.Insert(b.keys, i, key)
	}
	b.vals[key] = val
}

func (b *memBucket) delete(key string) {
	if _, ok := b.vals[key]; !ok {
		return
	}
	delete(b.vals, key)
	if i, found := slices.BinarySearch(b.keys, key); found {
		b.keys = slices.Delete(b.keys, i, i+1)
	}
}

type memTx struct {
	m       *memKV
	pending map[[2]string][]byte // a nil value is a deletion
}

func (m *memKV) Update(fn func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memTx{m: m, pending: map[[2]string][]byte{}}
	if err := fn(tx); err != nil {
		return err
	}
	for k, v := range tx.pending {
		if v == nil {
			m.buckets[k[0]].delete(k[1])
		} else {
			m.buckets[k[0]].put(k[1], v)
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
	if v, ok := t.pending[[2]string{bucket, key}]; ok {
		return v
	}
	return t.m.buckets[bucket].vals[key]
}

func (t *memTx) Put(bucket, key string, val []byte) error {
	if val == nil {
		val = []byte{}
	}
	t.pending[[2]string{bucket, key}] = slices.Clone(val)
	return nil
}

func (t *memTx) Delete(bucket, key string) error {
	t.pending[[2]string{bucket, key}] = nil
	return nil
}

// Scan and Seek visit what is committed; an update's own writes are not
// seen until it commits.
func (t *memTx) Scan(bucket, prefix string, fn func(string, []byte) error) error {
	return t.Seek(bucket, prefix, "", false, fn)
}

func (t *memTx) Seek(bucket, prefix, from string, desc bool, fn func(string, []byte) error) error {
	b := t.m.buckets[bucket]
	if !desc {
		i, _ := slices.BinarySearch(b.keys, max(prefix, from))
		if i < len(b.keys) && b.keys[i] == from {
			i++
		}
		for ; i < len(b.keys) && strings.HasPrefix(b.keys[i], prefix); i++ {
			if err := fn(b.keys[i], b.vals[b.keys[i]]); err != nil {
				return err
			}
		}
		return nil
	}
	end := from
	if end == "" {
		end = prefix + "\xff" // above every key with prefix: keys are UTF-8
	}
	i, _ := slices.BinarySearch(b.keys, end) // the first key >= end
	for i--; i >= 0 && strings.HasPrefix(b.keys[i], prefix); i-- {
		if err := fn(b.keys[i], b.vals[b.keys[i]]); err != nil {
			return err
		}
	}
	return nil
}
