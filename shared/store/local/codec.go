package local

// The stored forms of summaries. A summary was first stored as JSON (the
// call.Summary's fields, its Callees and a per-field stamps map); it is now
// stored in a compact binary form that starts with summaryV1, a byte no
// JSON document starts with, so a file holds both and every reader reads
// both: an old file needs no migration, and a summary takes the new form
// the next time an event is folded into it.
//
// summaryV1, then: the strings CallID, Provider, Status, MediaType,
// CallType, Caller, RoomID, Result (uvarint length, bytes); the varints
// StartTime, AcceptTime, EndTime, FirstEventTime, LastEventTime, EventCount,
// ExpiresAt; a byte of flags (1: Recorded); Named (uvarint count, strings);
// the distinct stamps (uvarint count, strings); the stamped fields (uvarint
// count; each a field code, 0 followed by the field's name for a field
// without one, then the uvarint index of its stamp). Callees is not stored:
// it is Named less the Caller, as call.Summary.Apply makes it.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

const summaryV1 = 0x01

// stampFields are the fields call.Summary.Apply stamps, by code (index+1).
var stampFields = []string{"status", "mediaType", "callType", "caller", "roomId", "result", "startTime", "acceptTime", "endTime"}

var errCorrupt = errors.New("corrupt stored summary")

// encodeSummary is s in its stored form. It is written on the stack and
// copied out once, so what a table keeps is no larger than it needs to
// be (the memory engine keeps the very slice, see Tx.Put).
func encodeSummary(s *storedSummary) []byte {
	var buf [512]byte
	b := append(buf[:0], summaryV1)
	for _, v := range []string{s.CallID, s.Provider, s.Status, s.MediaType, s.CallType, s.Caller, s.RoomID, s.Result} {
		b = appendString(b, v)
	}
	for _, v := range []int64{s.StartTime, s.AcceptTime, s.EndTime, s.FirstEventTime, s.LastEventTime, int64(s.EventCount), s.ExpiresAt} {
		b = binary.AppendVarint(b, v)
	}
	var flags byte
	if s.Recorded {
		flags |= 1
	}
	b = append(b, flags)
	named := s.Named
	if len(named) == 0 && len(s.Callees) > 0 {
		// A summary of an old file folded before Named existed: its
		// callees are all it knows of them.
		named = s.Callees
	}
	b = binary.AppendUvarint(b, uint64(len(named)))
	for _, u := range named {
		b = appendString(b, u)
	}
	// Most fields share a stamp (the event that set them): each distinct
	// stamp is stored once.
	var sbuf [16]string // more than there are stamped fields
	stamps := sbuf[:0]
	for _, v := range s.Stamps {
		if !slices.Contains(stamps, v) {
			stamps = append(stamps, v)
		}
	}
	slices.Sort(stamps)
	b = binary.AppendUvarint(b, uint64(len(stamps)))
	for _, v := range stamps {
		b = appendString(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Stamps)))
	written := 0
	for i, f := range stampFields {
		if v, ok := s.Stamps[f]; ok {
			b = append(b, byte(i+1))
			b = binary.AppendUvarint(b, uint64(slices.Index(stamps, v)))
			written++
		}
	}
	if written < len(s.Stamps) {
		var others []string
		for f := range s.Stamps {
			if !slices.Contains(stampFields, f) {
				others = append(others, f)
			}
		}
		slices.Sort(others)
		for _, f := range others {
			b = append(b, 0)
			b = appendString(b, f)
			b = binary.AppendUvarint(b, uint64(slices.Index(stamps, s.Stamps[f])))
		}
	}
	return bytes.Clone(b)
}

// decodeStoredSummary reads a summary in either stored form.
func decodeStoredSummary(b []byte, s *storedSummary) error {
	*s = storedSummary{}
	if len(b) == 0 || b[0] != summaryV1 {
		return decodeJSON(b, s)
	}
	d := decoder{b: b[1:]}
	for _, p := range []*string{&s.CallID, &s.Provider, &s.Status, &s.MediaType, &s.CallType, &s.Caller, &s.RoomID, &s.Result} {
		*p = d.string()
	}
	var count int64
	for _, p := range []*int64{&s.StartTime, &s.AcceptTime, &s.EndTime, &s.FirstEventTime, &s.LastEventTime, &count, &s.ExpiresAt} {
		*p = d.varint()
	}
	s.EventCount = int(count)
	flags := d.byte()
	s.Recorded = flags&1 != 0
	if n := d.count(); n > 0 {
		s.Named = make([]string, n)
		for i := range s.Named {
			s.Named[i] = d.string()
		}
	}
	s.DeriveCallees()
	stamps := make([]string, d.count())
	for i := range stamps {
		stamps[i] = d.string()
	}
	if n := d.count(); n > 0 {
		s.Stamps = make(map[string]string, n)
		for range n {
			var f string
			if c := d.byte(); c == 0 {
				f = d.string()
			} else if int(c) <= len(stampFields) {
				f = stampFields[c-1]
			} else {
				d.err = errCorrupt
			}
			i := d.uvarint()
			if d.err != nil || i >= uint64(len(stamps)) {
				return errCorrupt
			}
			s.Stamps[f] = stamps[i]
		}
	}
	if d.err != nil || len(d.b) != 0 {
		return errCorrupt
	}
	return nil
}

// decodeJSON reads the JSON form of a value an earlier version stored
// into *v. It decodes into a copy of its own, so that v, which
// encoding/json would otherwise make escape, can live on the caller's
// stack when the stored form is the binary one.
func decodeJSON[T any](b []byte, v *T) error {
	tmp := new(T)
	err := json.Unmarshal(b, tmp)
	*v = *tmp
	return err
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads what encodeSummary wrote; past an error it reads zeros.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() { d.err, d.b = errCorrupt, nil }

func (d *decoder) uvarint() uint64 { return next(d, binary.Uvarint) }
func (d *decoder) varint() int64   { return next(d, binary.Varint) }

// next reads one number with read (binary.Uvarint or Varint).
func next[T uint64 | int64](d *decoder, read func([]byte) (T, int)) T {
	v, n := read(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count is a length or count, at most what the bytes left could hold.
func (d *decoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) string() string {
	n := d.count()
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// summaryForm is for tests: s through its stored form.
func summaryForm(s *call.Summary) (*call.Summary, error) {
	var out storedSummary
	err := decodeStoredSummary(encodeSummary(&storedSummary{Summary: *s}), &out)
	return &out.Summary, err
}

// Events are stored, the same way, in a binary form that starts with
// eventV1 (JSON ones, by earlier versions, still read): eventV1, the
// varint ExpiresAt (first, so that a duplicate's check reads only it),
// the varints EventTime and ReceivedAt; the strings Provider, Channel,
// Command, Event, CallID, DeliveryID, RequestID; the facts: the strings
// Status, MediaType, CallType, Caller, RoomID, Result, the varints
// StartTime, AcceptTime, EndTime, Callees (count, strings), Detail (count,
// then each key and value, by key); and the raw body, the bytes left.
const eventV1 = 0x01

// encodeEvent is ev, to expire at expiresAt, in its stored form. It is
// written on the stack and copied out once (a larger event, to the heap
// as it grows), so what a table keeps is no larger than it needs to be
// (the memory engine keeps the very slice, see Tx.Put).
func encodeEvent(ev *call.Event, expiresAt int64) []byte {
	f := &ev.Facts
	var buf [2048]byte
	b := append(buf[:0], eventV1)
	b = binary.AppendVarint(b, expiresAt)
	b = binary.AppendVarint(b, ev.EventTime)
	b = binary.AppendVarint(b, ev.ReceivedAt)
	for _, v := range []string{ev.Provider, ev.Channel, ev.Command, ev.Event, ev.CallID, ev.DeliveryID, ev.RequestID,
		f.Status, f.MediaType, f.CallType, f.Caller, f.RoomID, f.Result} {
		b = appendString(b, v)
	}
	for _, v := range []int64{f.StartTime, f.AcceptTime, f.EndTime} {
		b = binary.AppendVarint(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(f.Callees)))
	for _, u := range f.Callees {
		b = appendString(b, u)
	}
	keys := make([]string, 0, len(f.Detail))
	for k := range f.Detail {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, f.Detail[k])
	}
	return bytes.Clone(append(b, ev.Raw...))
}

// eventExpiry is the expiry of the event stored as b.
func eventExpiry(b []byte) (int64, error) {
	if len(b) == 0 || b[0] != eventV1 {
		var ev storedEvent
		err := json.Unmarshal(b, &ev)
		return ev.ExpiresAt, err
	}
	d := decoder{b: b[1:]}
	exp := d.varint()
	return exp, d.err
}

// decodeStoredEvent reads an event in either stored form.
func decodeStoredEvent(b []byte, ev *storedEvent) error {
	*ev = storedEvent{}
	if len(b) == 0 || b[0] != eventV1 {
		return decodeJSON(b, ev)
	}
	d := decoder{b: b[1:]}
	f := &ev.Facts
	ev.ExpiresAt, ev.EventTime, ev.ReceivedAt = d.varint(), d.varint(), d.varint()
	for _, p := range []*string{&ev.Provider, &ev.Channel, &ev.Command, &ev.Event.Event, &ev.CallID, &ev.DeliveryID, &ev.RequestID,
		&f.Status, &f.MediaType, &f.CallType, &f.Caller, &f.RoomID, &f.Result} {
		*p = d.string()
	}
	for _, p := range []*int64{&f.StartTime, &f.AcceptTime, &f.EndTime} {
		*p = d.varint()
	}
	if n := d.count(); n > 0 {
		f.Callees = make([]string, n)
		for i := range f.Callees {
			f.Callees[i] = d.string()
		}
	}
	if n := d.count(); n > 0 {
		f.Detail = make(map[string]string, n)
		for range n {
			k := d.string()
			f.Detail[k] = d.string()
		}
	}
	if d.err != nil {
		return d.err
	}
	ev.Raw = string(d.b)
	return nil
}

// Index entries, too, are stored in a binary form that starts with
// entryV1 (JSON ones still read): entryV1, a byte of flags (1: Callee),
// the strings ID, Provider, Status, Result, CallType.
const entryV1 = 0x01

func encodeEntry(e entry) []byte {
	b := make([]byte, 0, 7+len(e.ID)+len(e.Provider)+len(e.Status)+len(e.Result)+len(e.CallType))
	var flags byte
	if e.Callee {
		flags |= 1
	}
	b = append(b, entryV1, flags)
	for _, v := range []string{e.ID, e.Provider, e.Status, e.Result, e.CallType} {
		b = appendString(b, v)
	}
	return b
}

func decodeEntry(b []byte, e *entry) error {
	*e = entry{}
	if len(b) == 0 || b[0] != entryV1 {
		return decodeJSON(b, e)
	}
	d := decoder{b: b[1:]}
	e.Callee = d.byte()&1 != 0
	for _, p := range []*string{&e.ID, &e.Provider, &e.Status, &e.Result, &e.CallType} {
		*p = d.string()
	}
	if d.err == nil && len(d.b) != 0 {
		return errCorrupt
	}
	return d.err
}

// Rollups, too, are stored in a binary form that starts with countsV1
// (JSON ones still read): countsV1, the varints Calls, InProgress, TalkMs,
// then ByResult and ByProvider, each a count and its entries by key
// (string, varint).
const countsV1 = 0x01

func encodeCounts(c *store.Counts) []byte {
	b := make([]byte, 0, 64)
	b = append(b, countsV1)
	b = binary.AppendVarint(b, c.Calls)
	b = binary.AppendVarint(b, c.InProgress)
	b = binary.AppendVarint(b, c.TalkMs)
	var buf [8]string
	for _, m := range []map[string]int64{c.ByResult, c.ByProvider} {
		keys := buf[:0]
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = binary.AppendUvarint(b, uint64(len(keys)))
		for _, k := range keys {
			b = appendString(b, k)
			b = binary.AppendVarint(b, m[k])
		}
	}
	return b
}

func decodeCounts(b []byte, c *store.Counts) error {
	*c = store.Counts{}
	if len(b) == 0 || b[0] != countsV1 {
		return decodeJSON(b, c)
	}
	d := decoder{b: b[1:]}
	c.Calls, c.InProgress, c.TalkMs = d.varint(), d.varint(), d.varint()
	for _, m := range []*map[string]int64{&c.ByResult, &c.ByProvider} {
		if n := d.count(); n > 0 {
			*m = make(map[string]int64, n)
			for range n {
				k := d.string()
				(*m)[k] = d.varint()
			}
		}
	}
	if d.err == nil && len(d.b) != 0 {
		return errCorrupt
	}
	return d.err
}
