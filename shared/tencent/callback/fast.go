package callback

// A callback body decoded without reflection. fastV4 and fastV1 read the
// bodies Tencent sends (exact field names, each once) into the same
// structs, with the same values, as jsonx.Decode does; any body they are
// not sure of (a field name spelled in another case or escaped, a field
// twice, a value of an unusual shape, invalid JSON, an error of any kind)
// they leave to jsonx.Decode, so the result and the error text are always
// encoding/json's. Strings without escapes are taken from raw, the body as
// a string (Event.Raw), rather than copied one by one.

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/callfn/callfn/shared/jsonx"
)

// maxFastDepth is the nesting the fast path reads; deeper bodies (which
// encoding/json refuses past 10,000) are left to it.
const maxFastDepth = 64

// scanner reads one JSON text; b and raw are the same bytes.
type scanner struct {
	b     []byte
	raw   string
	i     int
	depth int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek is the next byte after white space, 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// value skips one valid JSON value (after white space) and returns its
// span; ok is false when it is not valid JSON.
func (s *scanner) value() (start, end int, ok bool) {
	switch c := s.peek(); {
	case c == '"':
		start = s.i
		_, ok = s.str()
	case c == '{' || c == '[':
		start = s.i
		ok = s.skipComposite()
	case c == '-' || c >= '0' && c <= '9':
		start = s.i
		ok = s.number()
	case c == 't':
		start = s.i
		ok = s.literal("true")
	case c == 'f':
		start = s.i
		ok = s.literal("false")
	case c == 'n':
		start = s.i
		ok = s.literal("null")
	}
	return start, s.i, ok
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// str reads a string at s.i; escaped says it holds a backslash.
func (s *scanner) str() (escaped, ok bool) {
	s.i++ // the quote
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return escaped, true
		case c < 0x20:
			return false, false
		case c == '\\':
			escaped = true
			s.i++
			if s.i >= len(s.b) {
				return false, false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.b)-s.i < 5 {
					return false, false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !isHex(h) {
						return false, false
					}
				}
				s.i += 5
			default:
				return false, false
			}
		default:
			s.i++
		}
	}
	return false, false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func (s *scanner) digits() bool {
	n := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > n
}

// number reads a number as JSON writes it.
func (s *scanner) number() bool {
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if !s.digits() {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// skipComposite skips an object or an array at s.i.
func (s *scanner) skipComposite() bool {
	closing := byte(']')
	if s.b[s.i] == '{' {
		closing = '}'
	}
	if !s.enter(s.b[s.i]) {
		return false
	}
	for first := true; ; first = false {
		more, ok := s.next(closing, first)
		if !ok {
			return false
		}
		if !more {
			return true
		}
		if closing == '}' {
			if _, ok := s.key(); !ok {
				return false
			}
		}
		if _, _, ok := s.value(); !ok {
			return false
		}
	}
}

// enter reads the opening of an object or an array (after white space).
func (s *scanner) enter(open byte) bool {
	if s.peek() != open || s.depth >= maxFastDepth {
		return false
	}
	s.depth++
	s.i++
	return true
}

// next reads what comes before a member or an element of the object or
// array entered (a comma, unless first) or its end, closing: more says
// a member or an element comes, ok false that neither does.
func (s *scanner) next(closing byte, first bool) (more, ok bool) {
	switch c := s.peek(); {
	case c == closing:
		s.i++
		s.depth--
		return false, true
	case first:
		return true, true
	case c == ',':
		s.i++
		return true, true
	}
	return false, false
}

// key reads a member's name and its colon; a name with an escape is not
// read.
func (s *scanner) key() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	start := s.i
	if escaped, ok := s.str(); !ok || escaped {
		return nil, false
	}
	key := s.b[start+1 : s.i-1]
	if s.peek() != ':' {
		return nil, false
	}
	s.i++
	return key, true
}

// null reads a null if one comes next.
func (s *scanner) null() bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	return false
}

// string reads a value into v as (*jsonx.String).UnmarshalJSON does.
func (s *scanner) string(v *jsonx.String) bool {
	start, end, ok := s.value()
	if !ok {
		return false
	}
	switch c := s.b[start]; {
	case c == '"' && bytes.IndexByte(s.b[start:end], '\\') < 0:
		*v = jsonx.String(s.raw[start+1 : end-1])
		return true
	case c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f':
		// A number (valid: value read it) or a boolean: its text.
		*v = jsonx.String(s.raw[start:end])
		return true
	}
	return v.UnmarshalJSON(s.b[start:end]) == nil
}

// int reads a value into v as (*jsonx.Int).UnmarshalJSON does.
func (s *scanner) int(v *jsonx.Int) bool {
	start, end, ok := s.value()
	if !ok {
		return false
	}
	if n, ok := smallInt(s.b[start:end]); ok {
		*v = jsonx.Int(n)
		return true
	}
	return v.UnmarshalJSON(s.b[start:end]) == nil
}

// smallInt reads an integer of at most 18 digits, optionally negative.
func smallInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// other skips the value of a member no field is named after, unless its
// name matches one in another case (encoding/json would then set that
// field): that body is left to encoding/json.
func (s *scanner) other(key []byte, names []string) bool {
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return false
		}
	}
	_, _, ok := s.value()
	return ok
}

// seen marks field i of an object read; false when it was read already.
func seen(mask *uint32, i int) bool {
	if *mask&(1<<i) != 0 {
		return false
	}
	*mask |= 1 << i
	return true
}

// document starts reading body, raw as a string, which must be one
// object with nothing after it but white space, as jsonx.Decode requires;
// end checks what follows it.
func document(body []byte, raw string) (scanner, bool) {
	s := scanner{b: body, raw: raw}
	return s, utf8.Valid(body) && s.enter('{')
}

func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

var (
	v4Names     = []string{"CallbackCommand", "CallInfo", "CallRecord", "CallId", "UserList", "ChangedUserList", "EventTime"}
	v4InfoNames = []string{"CallId", "CallMediaType", "MediaType", "ChatGroupId", "RoomId", "RoomIdType"}
	v4UserNames = []string{"User_Account", "Status", "ActionType"}
	v1Names     = []string{"UserId", "RoomId", "TotalNum", "MediaType", "CallType", "CallId", "Role", "Event", "CallResult", "EventTime", "StartCallTs", "AcceptTs", "EndTs"}
)

// v4Fast is what fastV4 decodes into, in one allocation: the callback,
// its CallInfo, and room for the users of the usual callback.
type v4Fast struct {
	cb    v4Callback
	info  v4Info
	users [6]v4User
}

// fastV4 decodes a v4 body into f (zero) as jsonx.Decode would decode it
// into f.cb, or reports false.
func fastV4(body []byte, raw string, f *v4Fast) bool {
	b := &f.cb
	s, ok := document(body, raw)
	if !ok {
		return false
	}
	var mask uint32
	for first := true; ; first = false {
		more, ok := s.next('}', first)
		if !ok {
			return false
		}
		if !more {
			return s.end()
		}
		key, ok := s.key()
		if !ok {
			return false
		}
		switch string(key) {
		case "CallbackCommand":
			ok = seen(&mask, 0) && s.string(&b.CallbackCommand)
		case "CallInfo":
			ok = seen(&mask, 1) && s.callInfo(f)
		case "CallRecord":
			start, end, read := s.value()
			ok = seen(&mask, 2) && read && json.Unmarshal(body[start:end], &b.CallRecord) == nil
		case "CallId":
			ok = seen(&mask, 3) && s.string(&b.CallId)
		case "UserList":
			ok = seen(&mask, 4) && s.users(&b.UserList, f.users[0:0:4])
		case "ChangedUserList":
			ok = seen(&mask, 5) && s.users(&b.ChangedUserList, f.users[4:4:6])
		case "EventTime":
			ok = seen(&mask, 6) && s.int(&b.EventTime)
		default:
			ok = s.other(key, v4Names)
		}
		if !ok {
			return false
		}
	}
}

func (s *scanner) callInfo(f *v4Fast) bool {
	if s.null() {
		return true
	}
	ci := &f.info
	f.cb.CallInfo = ci
	if !s.enter('{') {
		return false
	}
	var mask uint32
	for first := true; ; first = false {
		more, ok := s.next('}', first)
		if !ok {
			return false
		}
		if !more {
			return true
		}
		key, ok := s.key()
		if !ok {
			return false
		}
		switch string(key) {
		case "CallId":
			ok = seen(&mask, 0) && s.string(&ci.CallId)
		case "CallMediaType":
			ok = seen(&mask, 1) && s.string(&ci.CallMediaType)
		case "MediaType":
			ok = seen(&mask, 2) && s.string(&ci.MediaType)
		case "ChatGroupId":
			ok = seen(&mask, 3) && s.string(&ci.ChatGroupId)
		case "RoomId":
			ok = seen(&mask, 4) && s.string(&ci.RoomId)
		case "RoomIdType":
			ok = seen(&mask, 5) && s.int(&ci.RoomIdType)
		default:
			ok = s.other(key, v4InfoNames)
		}
		if !ok {
			return false
		}
	}
}

// users reads a list of users into *list, appending to room.
func (s *scanner) users(list *[]v4User, room []v4User) bool {
	if s.null() {
		return true
	}
	if !s.enter('[') {
		return false
	}
	*list = room
	for first := true; ; first = false {
		more, ok := s.next(']', first)
		if !ok {
			return false
		}
		if !more {
			return true
		}
		var u v4User
		if !s.user(&u) {
			return false
		}
		*list = append(*list, u)
	}
}

func (s *scanner) user(u *v4User) bool {
	if !s.enter('{') {
		return false
	}
	var mask uint32
	for first := true; ; first = false {
		more, ok := s.next('}', first)
		if !ok {
			return false
		}
		if !more {
			return true
		}
		key, ok := s.key()
		if !ok {
			return false
		}
		switch string(key) {
		case "User_Account":
			ok = seen(&mask, 0) && s.string(&u.User_Account)
		case "Status":
			ok = seen(&mask, 1) && s.string(&u.Status)
		case "ActionType":
			ok = seen(&mask, 2) && s.string(&u.ActionType)
		default:
			ok = s.other(key, v4UserNames)
		}
		if !ok {
			return false
		}
	}
}

// fastV1 decodes a v1 body into b (zero) as jsonx.Decode would, or
// reports false.
func fastV1(body []byte, raw string, b *v1Callback) bool {
	s, ok := document(body, raw)
	if !ok {
		return false
	}
	var mask uint32
	for first := true; ; first = false {
		more, ok := s.next('}', first)
		if !ok {
			return false
		}
		if !more {
			return s.end()
		}
		key, ok := s.key()
		if !ok {
			return false
		}
		switch string(key) {
		case "UserId":
			ok = seen(&mask, 0) && s.string(&b.UserId)
		case "RoomId":
			ok = seen(&mask, 1) && s.string(&b.RoomId)
		case "TotalNum":
			ok = seen(&mask, 2) && s.int(&b.TotalNum)
		case "MediaType":
			ok = seen(&mask, 3) && s.string(&b.MediaType)
		case "CallType":
			ok = seen(&mask, 4) && s.string(&b.CallType)
		case "CallId":
			ok = seen(&mask, 5) && s.string(&b.CallId)
		case "Role":
			ok = seen(&mask, 6) && s.string(&b.Role)
		case "Event":
			ok = seen(&mask, 7) && s.string(&b.Event)
		case "CallResult":
			ok = seen(&mask, 8) && s.string(&b.CallResult)
		case "EventTime":
			ok = seen(&mask, 9) && s.int(&b.EventTime)
		case "StartCallTs":
			ok = seen(&mask, 10) && s.int(&b.StartCallTs)
		case "AcceptTs":
			ok = seen(&mask, 11) && s.int(&b.AcceptTs)
		case "EndTs":
			ok = seen(&mask, 12) && s.int(&b.EndTs)
		default:
			ok = s.other(key, v1Names)
		}
		if !ok {
			return false
		}
	}
}
