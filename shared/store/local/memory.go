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
	// tx is the one update transaction, reused: updates run one at a
	// time, so its journal need not be allocated for each.
	tx memTx
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
	n := len(b.vals)
	b.vals[key] = val
	if len(b.vals) > n { // a new key: one map operation, not a lookup and then another
		b.added = append(b.added, key)
	}
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
	m *memKV
	// writes is the journal, in the order written: the last write of a
	// key is its value. Looked up from the end while it is short (a
	// callback's fold writes a handful of keys), through index (the
	// position of each key's last write) once it is long.
	writes []memWrite
	index  map[memKey]int
}

type memKey struct{ bucket, key string }

// memWrite is one journalled write: a value, or a deletion.
type memWrite struct {
	memKey
	val     []byte
	deleted bool
}

// memIndexAt is the journal length from which lookups go through an index.
const memIndexAt = 32

func (t *memTx) write(w memWrite) {
	t.writes = append(t.writes, w)
	switch {
	case t.index != nil:
		t.index[w.memKey] = len(t.writes) - 1
	case len(t.writes) >= memIndexAt:
		t.index = make(map[memKey]int, 2*len(t.writes))
		for i, w := range t.writes {
			t.index[w.memKey] = i
		}
	}
}

// reset empties the journal for the next transaction, dropping what it
// held; a journal grown by a large transaction is not kept.
func (t *memTx) reset() {
	if cap(t.writes) > 4*memIndexAt {
		t.writes = nil
	}
	clear(t.writes)
	t.writes, t.index = t.writes[:0], nil
}

// written is the transaction's last write of k, if any.
func (t *memTx) written(k memKey) (memWrite, bool) {
	if t.index != nil {
		i, ok := t.index[k]
		if !ok {
			return memWrite{}, false
		}
		return t.writes[i], true
	}
	for i := len(t.writes) - 1; i >= 0; i-- {
		if t.writes[i].memKey == k {
			return t.writes[i], true
		}
	}
	return memWrite{}, false
}

func (m *memKV) Update(fn func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &m.tx
	tx.m = m
	defer tx.reset()
	if err := fn(tx); err != nil {
		return err
	}
	// In the order written, so the last write of a key is what stays.
	for _, w := range tx.writes {
		if w.deleted {
			m.buckets[w.bucket].delete(w.key)
		} else {
			m.buckets[w.bucket].put(w.key, w.val)
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
	if w, ok := t.written(memKey{bucket, key}); ok {
		if w.deleted {
			return nil
		}
		return w.val
	}
	return t.m.buckets[bucket].vals[key]
}

func (t *memTx) Put(bucket, key string, val []byte) error {
	t.write(memWrite{memKey: memKey{bucket, key}, val: val}) // kept, not copied (see Tx.Put)
	return nil
}

func (t *memTx) Delete(bucket, key string) error {
	t.write(memWrite{memKey: memKey{bucket, key}, deleted: true})
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
	for _, w := range t.writes {
		if w.bucket == bucket {
			written = true
			break
		}
	}
	if !written {
		return sorted
	}
	keys := slices.DeleteFunc(slices.Clone(sorted), func(k string) bool {
		_, w := t.written(memKey{bucket, k})
		return w
	})
	for _, w := range t.writes {
		if w.bucket == bucket {
			if last, _ := t.written(w.memKey); !last.deleted {
				keys = append(keys, w.key)
			}
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys) // a key written twice
}
