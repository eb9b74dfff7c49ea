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
			m.buckets[k[0]].delete(k[1])
		} else {
			m.buckets[k[0]].put(k[1], w.val)
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
	return t.m.buckets[bucket].vals[key]
}

func (t *memTx) Put(bucket, key string, val []byte) error {
	t.pending[[2]string{bucket, key}] = memWrite{val: slices.Clone(val)}
	return nil
}

func (t *memTx) Delete(bucket, key string) error {
	t.pending[[2]string{bucket, key}] = memWrite{deleted: true}
	return nil
}

// Scan and Seek see the transaction's own writes, as bbolt's do.
func (t *memTx) Scan(bucket, prefix string, fn func(string, []byte) error) error {
	return t.Seek(bucket, prefix, "", false, fn)
}

func (t *memTx) Seek(bucket, prefix, from string, desc bool, fn func(string, []byte) error) error {
	keys := t.keys(bucket)
	var i int
	switch {
	case !desc:
		i, _ = slices.BinarySearch(keys, max(prefix, from))
		if i < len(keys) && keys[i] == from {
			i++
		}
	default:
		end := from
		if end == "" {
			end = prefix + "\xff" // above every key with prefix: keys are UTF-8
		}
		i, _ = slices.BinarySearch(keys, end) // the first key >= end
		i--
	}
	step := 1
	if desc {
		step = -1
	}
	for ; i >= 0 && i < len(keys) && strings.HasPrefix(keys[i], prefix); i += step {
		if err := fn(keys[i], t.Get(bucket, keys[i])); err != nil {
			return err
		}
	}
	return nil
}

// keys are bucket's keys, sorted, as the transaction sees them: the
// committed ones, unless it wrote to the bucket (then merged with its
// writes, at a cost growing with the bucket).
func (t *memTx) keys(bucket string) []string {
	b := t.m.buckets[bucket]
	written := false
	for k := range t.pending {
		if k[0] == bucket {
			written = true
			break
		}
	}
	if !written {
		return b.keys
	}
	keys := slices.DeleteFunc(slices.Clone(b.keys), func(k string) bool {
		_, w := t.pending[[2]string{bucket, k}]
		return w
	})
	for k, w := range t.pending {
		if k[0] == bucket && !w.deleted {
			keys = append(keys, k[1])
		}
	}
	slices.Sort(keys)
	return keys
}
