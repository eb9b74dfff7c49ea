package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrLocked is returned when another process holds the embedded table.
var ErrLocked = errors.New("store: the embedded table is in use by another process")

// OpenBolt opens (creating if needed) the embedded table at path. bbolt
// fsyncs every update transaction, so PutEvent returns only once durable.
func OpenBolt(path string, opts Options) (Store, error) {
	return OpenBoltWait(path, opts, 5*time.Second)
}

// OpenBoltWait is OpenBolt waiting at most wait for another process's lock
// on the file, then failing with ErrLocked.
func OpenBoltWait(path string, opts Options, wait time.Duration) (Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: wait})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w (%s)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Concurrent PutEvents share a transaction (and its fsync) when they
	// arrive within a millisecond of each other; a lone one waits at most that.
	db.MaxBatchDelay = time.Millisecond
	return &local{kv: boltKV{db}, opts: opts}, nil
}

type boltKV struct{ db *bolt.DB }

type boltTx struct{ tx *bolt.Tx }

func (b boltKV) update(fn func(kvTx) error) error {
	return b.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

// batch coalesces concurrent callers into one transaction and one fsync.
func (b boltKV) batch(fn func(kvTx) error) error {
	return b.db.Batch(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (b boltKV) view(fn func(kvTx) error) error {
	return b.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (b boltKV) close() error { return b.db.Close() }

func (t boltTx) get(bucket, key string) []byte {
	v := t.tx.Bucket([]byte(bucket)).Get([]byte(key))
	if v == nil {
		return nil
	}
	return bytes.Clone(v) // bolt's slice is valid only inside the transaction
}

func (t boltTx) put(bucket, key string, val []byte) error {
	return t.tx.Bucket([]byte(bucket)).Put([]byte(key), val)
}

func (t boltTx) scan(bucket, prefix string, fn func(string, []byte) error) error {
	c := t.tx.Bucket([]byte(bucket)).Cursor()
	p := []byte(prefix)
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if err := fn(string(k), v); err != nil {
			if err == errStop {
				return nil
			}
			return err
		}
	}
	return nil
}
