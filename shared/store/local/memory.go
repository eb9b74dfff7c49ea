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
	pending map[[2]string][]byte
}

func (m *memKV) Update(fn func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memTx{m: m, pending: map[[2]string][]byte{}}
	if err := fn(tx); err != nil {
		return err
	}
	for k, v := range tx.pending {
		m.data[k[0]][k[1]] = v
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
	return t.m.data[bucket][key]
}

func (t *memTx) Put(bucket, key string, val []byte) error {
	t.pending[[2]string{bucket, key}] = slices.Clone(val)
	return nil
}

func (t *memTx) Scan(bucket, prefix string, fn func(string, []byte) error) error {
	var keys []string
	for k := range t.m.data[bucket] {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn(k, t.m.data[bucket][k]); err != nil {
			return err
		}
	}
	return nil
}
