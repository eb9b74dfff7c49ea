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

// memBucket keeps its keys sorted for seeks, sorting what was written
// since the last seek only when a seek comes: a write costs the same in a
// bucket of any size (inserting into the sorted keys cost its length).
type memBucket struct {
	vals map[string][]byte
	mu   sync.Mutex // held to merge: a View holds memKV.mu shared only
	keys []string   // sorted; after a delete, may hold keys no longer in vals
	// added are the keys put since the last merge, in no order;
	// removed says a key was deleted since then.
	added   []string
	removed bool
}

func (b *memBucket) put(key string, val []byte) {
	if _, ok := b.vals[key]; !ok {
		b.added = append(b.added, key)
	}
	b.vals[key] = val
}

func (b *memBucket) delete(key string) {
	if _, ok := b.vals[key]; ok {
		delete(b.vals, key)
		b.removed = true
	}
}

// sorted is the bucket's keys, sorted. The slice is never changed after:
// a merge makes a new one.
func (b *memBucket) sorted() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.added) == 0 && !b.removed {
		return b.keys
	}
	slices.Sort(b.added)
	merged := make([]string, 0, len(b.keys)+len(b.added))
	keep := func(k string) {
		if _, ok := b.vals[k]; ok && (len(merged) == 0 || merged[len(merged)-1] != k) {
			merged = append(merged, k)
		}
	}
	i, j := 0, 0
	for i < len(b.keys) || j < len(b.added) {
		if j == len(b.added) || i < len(b.keys) && b.keys[i] <= b.added[j] {
			keep(b.keys[i])
			i++
		} else {
			keep(b.added[j])
			j++
		}
	}
	b.keys, b.added, b.removed = merged, nil, false
	return b.keys
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
	sorted := b.sorted()
	written := false
	for k := range t.pending {
		if k[0] == bucket {
			written = true
			break
		}
	}
	if !written {
		return sorted
	}
	keys := slices.DeleteFunc(slices.Clone(sorted), func(k string) bool {
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
