package bolt

import (
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/callfn/callfn/shared/store/local"
)

// The file's format, kept in a bucket of its own: bFormat holds kKeys, the
// version of store/local's key encoding the file's keys follow.
const (
	bFormat = "callfn"
	kKeys   = "keys"
	// keysV2: ids with a "\x00", or longer than a key part, keyed by their
	// digest (local.CanonicalKey). Files without the mark are older: their
	// keys joined ids as they were, so a call "a\x00x" listed its events
	// under call "a".
	keysV2 = "2"
)

// migrateKeys brings the keys of a file written before keysV2 to it, once,
// in one transaction: the keys of ids without a "\x00" and of a usual
// length are already right and stay; the few others move to the key their
// item's ids give (a user index entry's user is its key less its value,
// the call id). A new file is only marked.
func migrateKeys(db *bbolt.DB) error {
	return db.Update(func(tx *bbolt.Tx) error {
		format, err := tx.CreateBucketIfNotExists([]byte(bFormat))
		if err != nil {
			return err
		}
		if string(format.Get([]byte(kKeys))) == keysV2 {
			return nil
		}
		for _, name := range local.Buckets() {
			b := tx.Bucket([]byte(name))
			type move struct{ from, to, val []byte }
			var moves []move
			err := b.ForEach(func(k, v []byte) error {
				to, err := local.CanonicalKey(name, string(k), v)
				if err != nil {
					return err
				}
				if to != string(k) {
					moves = append(moves, move{append([]byte(nil), k...), []byte(to), append([]byte(nil), v...)})
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("bring keys to format %s: %w", keysV2, err)
			}
			for _, m := range moves {
				if err := b.Delete(m.from); err != nil {
					return err
				}
				if err := b.Put(m.to, m.val); err != nil {
					return err
				}
			}
		}
		return format.Put([]byte(kKeys), []byte(keysV2))
	})
}
