package local

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// A transaction's journal: each key's last write is what it reads, what
// its seeks see, and what it commits; a failed transaction leaves
// nothing. Both with few writes (looked up from the end) and many
// (through the index).
func TestMemoryJournal(t *testing.T) {
	for _, n := range []int{3, memIndexAt + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			m := &memKV{buckets: map[string]*memBucket{"a": {vals: map[string][]byte{}}, "b": {vals: map[string][]byte{}}}}
			m.buckets["a"].put("old", []byte("o"))
			m.buckets["a"].put("gone", []byte("g"))
			want := map[string]string{"old": "o"}
			err := m.Update(func(tx Tx) error {
				for i := range n {
					k := fmt.Sprintf("k%02d", i)
					tx.Put("a", k, []byte("first"))
					tx.Put("b", k, []byte("other bucket"))
					if i%3 == 0 {
						tx.Delete("a", k)
					} else {
						tx.Put("a", k, []byte(k))
						want[k] = k
					}
				}
				tx.Delete("a", "gone")
				tx.Put("a", "gone", []byte("back"))
				tx.Delete("a", "gone")
				for k, v := range want {
					if got := string(tx.Get("a", k)); got != v {
						return fmt.Errorf("in the transaction, %s = %q, want %q", k, got, v)
					}
				}
				if tx.Get("a", "gone") != nil || tx.Get("a", "k00") != nil {
					return errors.New("a deleted key reads")
				}
				var seen []string
				tx.Scan("a", "", func(k string, v []byte) error {
					if string(v) != want[k] {
						return fmt.Errorf("scan: %s = %q, want %q", k, v, want[k])
					}
					seen = append(seen, k)
					return nil
				})
				if len(seen) != len(want) || !slices.IsSorted(seen) {
					return fmt.Errorf("scan saw %q, want the %d keys in order", seen, len(want))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range want {
				if got := string(m.buckets["a"].vals[k]); got != v {
					t.Errorf("committed %s = %q, want %q", k, got, v)
				}
			}
			if len(m.buckets["a"].vals) != len(want) {
				t.Errorf("committed %d keys, want %d", len(m.buckets["a"].vals), len(want))
			}
			if keys := m.buckets["a"].sorted(); len(keys) != len(want) {
				t.Errorf("sorted keys %q, want %d", keys, len(want))
			}
			fail := errors.New("rolled back")
			if err := m.Update(func(tx Tx) error { tx.Put("a", "new", nil); tx.Delete("a", "old"); return fail }); err != fail {
				t.Fatal(err)
			}
			if _, ok := m.buckets["a"].vals["new"]; ok || m.buckets["a"].vals["old"] == nil {
				t.Error("a failed transaction left its writes")
			}
		})
	}
}

func TestStatsKey(t *testing.T) {
	for _, n := range []int64{0, 1, 900000, 1740464100000, 9999999999999, 10000000000000, 1 << 62, -1, -900000, -1 << 63} {
		if got, want := statsKey(n), fmt.Sprintf("%013d", n); got != want {
			t.Errorf("statsKey(%d) = %q, want %q", n, got, want)
		}
	}
}
