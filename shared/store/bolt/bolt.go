// Package bolt is callfn's embedded table, the local default
// (CALLFN_STORE=bolt:PATH): store/local's table kept in one bbolt file.
// Every update is fsynced before PutEvent returns; concurrent PutEvents
// share one commit (a group committer), so one fsync serves many.
//
// Cloud builds (-tags lambda or scf) do not link this package: store/open
// leaves bolt: out of them.
package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/local"
)

// ErrLocked is returned when another process holds the embedded table.
var ErrLocked = errors.New("store: the embedded table is in use by another process")

// Open opens (creating if needed) the embedded table at path. bbolt
// fsyncs every update transaction, so PutEvent returns only once durable.
func Open(path string, opts store.Options) (store.Store, error) {
	return OpenWait(path, opts, 5*time.Second)
}

// OpenWait is Open waiting at most wait for another process's lock on the
// file, then failing with ErrLocked.
func OpenWait(path string, opts store.Options, wait time.Duration) (store.Store, error) {
	// The file is created; its directory must exist (a typo in the path is
	// an error, not a new directory).
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("store: bolt:%s: the directory %s does not exist", path, filepath.Dir(path))
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: wait,
		// The freelist is not written with every commit (one page or more
		// each time, growing with the file); after a crash bbolt rebuilds
		// it when it opens the file, from the pages the tree reaches, so
		// nothing committed is lost. The map form keeps frees and
		// allocations cheap in a large file.
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w (%s)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range local.Buckets() {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = migrateKeys(db)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	st, err := local.New(newEngine(db), opts)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return st, nil
}

// engine is the local.Engine on a bbolt file.
type engine struct {
	db      *bbolt.DB
	commits chan commitReq
	mu      sync.RWMutex // held to send on commits; taken by close
	closed  bool
	done    chan struct{} // closed by close; the committer then drains and exits
	exited  chan struct{}
}

var _ local.Engine = (*engine)(nil)

type boltTx struct{ tx *bbolt.Tx }

func newEngine(db *bbolt.DB) *engine {
	b := &engine{db: db, commits: make(chan commitReq, 256), done: make(chan struct{}), exited: make(chan struct{})}
	go b.committer()
	return b
}

func (b *engine) Update(fn func(local.Tx) error) error {
	return b.db.Update(func(tx *bbolt.Tx) error { return fn(boltTx{tx}) })
}

// commitReq is one batch caller waiting for its transaction to commit.
type commitReq struct {
	fn  func(local.Tx) error
	err chan error
}

// Batch is group commit: one committer goroutine takes every request queued
// so far, runs them in one transaction and fsyncs once. A lone request is
// committed at once; under load, requests gather while the previous commit
// syncs, so no caller waits on a timer.
func (b *engine) Batch(fn func(local.Tx) error) error {
	r := commitReq{fn: fn, err: make(chan error, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return berrors.ErrDatabaseNotOpen
	}
	b.commits <- r
	b.mu.RUnlock()
	return <-r.err
}

func (b *engine) committer() {
	defer close(b.exited)
	for {
		var reqs []commitReq
		select {
		case r := <-b.commits:
			reqs = append(reqs, r)
		case <-b.done:
			// Close holds the lock, so nothing more is sent: commit the rest.
			for len(b.commits) > 0 {
				reqs = append(reqs, <-b.commits)
			}
			b.commitAll(reqs)
			return
		}
	drain:
		for len(reqs) < 1000 {
			select {
			case r := <-b.commits:
				reqs = append(reqs, r)
			default:
				break drain
			}
		}
		b.commitAll(reqs)
	}
}

// commitAll runs reqs in one transaction. When one fails, the transaction
// is rolled back, that request runs alone (to get its own error), and the
// others are committed again without it.
func (b *engine) commitAll(reqs []commitReq) {
	for len(reqs) > 0 {
		failed := -1
		err := b.db.Update(func(tx *bbolt.Tx) error {
			for i, r := range reqs {
				if err := r.fn(boltTx{tx}); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, r := range reqs {
				r.err <- err // nil, or the commit's own failure for all
			}
			return
		}
		reqs[failed].err <- b.Update(reqs[failed].fn)
		reqs = append(reqs[:failed], reqs[failed+1:]...)
	}
}

func (b *engine) View(fn func(local.Tx) error) error {
	return b.db.View(func(tx *bbolt.Tx) error { return fn(boltTx{tx}) })
}

func (b *engine) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.done)
	b.mu.Unlock()
	<-b.exited
	return b.db.Close()
}

func (t boltTx) Get(bucket, key string) []byte {
	v := t.tx.Bucket([]byte(bucket)).Get([]byte(key))
	if v == nil {
		return nil
	}
	return bytes.Clone(v) // bolt's slice is valid only inside the transaction
}

// fillPercent is how full a page is left when bbolt splits a node. Keys
// that arrive in ascending order (the indexes by time, the rollups, and
// call ids that sort by time, as callfn's own do) leave every page but the
// last as full as the split leaves it, so bbolt's default (half) would
// leave the file half empty; keys that land at random fill pages to about
// two thirds whatever this is (measured: 64% at 0.5 and at 0.9).
const fillPercent = 0.9

func (t boltTx) Put(bucket, key string, val []byte) error {
	b := t.tx.Bucket([]byte(bucket))
	b.FillPercent = fillPercent
	err := b.Put([]byte(key), val)
	if errors.Is(err, berrors.ErrKeyTooLarge) || errors.Is(err, berrors.ErrValueTooLarge) {
		// Never with the table's keys (store/local keeps them short) and
		// limits; but should it happen, a retry would not help.
		return fmt.Errorf("%w: %w", store.ErrTooLarge, err)
	}
	return err
}

func (t boltTx) Delete(bucket, key string) error {
	return t.tx.Bucket([]byte(bucket)).Delete([]byte(key))
}

func (t boltTx) Scan(bucket, prefix string, fn func(string, []byte) error) error {
	c := t.tx.Bucket([]byte(bucket)).Cursor()
	p := []byte(prefix)
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if err := fn(string(k), v); err != nil {
			return err
		}
	}
	return nil
}

func (t boltTx) Seek(bucket, prefix, from string, desc bool, fn func(string, []byte) error) error {
	c := t.tx.Bucket([]byte(bucket)).Cursor()
	p := []byte(prefix)
	var k, v []byte
	step := c.Next
	switch {
	case !desc:
		k, v = c.Seek([]byte(max(prefix, from)))
		if k != nil && from != "" && string(k) == from {
			k, v = c.Next()
		}
	default:
		step = c.Prev
		end := from
		if end == "" {
			end = prefix + "\xff" // above every key with prefix: keys are UTF-8
		}
		// The last key before end.
		if k, _ = c.Seek([]byte(end)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	}
	for ; k != nil && bytes.HasPrefix(k, p); k, v = step() {
		if err := fn(string(k), v); err != nil {
			return err
		}
	}
	return nil
}
