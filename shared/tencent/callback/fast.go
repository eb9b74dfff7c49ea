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
	if s.b[s.i] == '[' {
		return s.array(func() bool { _, _, ok := s.value(); return ok })
	}
	return s.object(func(key []byte) bool { _, _, ok := s.value(); return ok })
}

// object reads an object at s.i (after white space), calling field for
// each member with its name (unescaped: a name with an escape is not read)
// once the colon is read; field reads the value.
func (s *scanner) object(field func(key []byte) bool) bool {
	if s.peek() != '{' || s.depth >= maxFastDepth {
		return false
	}
	s.depth++
	s.i++
	if s.peek() == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		if s.peek() != '"' {
			return false
		}
		start := s.i
		if escaped, ok := s.str(); !ok || escaped {
			return false
		}
		key := s.b[start+1 : s.i-1]
		if s.peek() != ':' {
			return false
		}
		s.i++
		if !field(key) {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// array reads an array at s.i (after white space), calling elem to read
// each element.
func (s *scanner) array(elem func() bool) bool {
	if s.peek() != '[' || s.depth >= maxFastDepth {
		return false
	}
	s.depth++
	s.i++
	if s.peek() == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
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

// document reads body, raw as a string, as one object with nothing after
// it but white space, as jsonx.Decode requires.
func document(body []byte, raw string, field func(s *scanner, key []byte) bool) bool {
	if !utf8.Valid(body) {
		return false
	}
	s := &scanner{b: body, raw: raw}
	if !s.object(func(key []byte) bool { return field(s, key) }) {
		return false
	}
	s.ws()
	return s.i == len(body)
}

var (
	v4Names     = []string{"CallbackCommand", "CallInfo", "CallRecord", "CallId", "UserList", "ChangedUserList", "EventTime"}
	v4InfoNames = []string{"CallId", "CallMediaType", "MediaType", "ChatGroupId", "RoomId", "RoomIdType"}
	v4UserNames = []string{"User_Account", "Status", "ActionType"}
	v1Names     = []string{"UserId", "RoomId", "TotalNum", "MediaType", "CallType", "CallId", "Role", "Event", "CallResult", "EventTime", "StartCallTs", "AcceptTs", "EndTs"}
)

// fastV4 decodes a v4 body into b (zero) as jsonx.Decode would, or
// reports false.
func fastV4(body []byte, raw string, b *v4Callback) bool {
	var mask uint32
	return document(body, raw, func(s *scanner, key []byte) bool {
		switch string(key) {
		case "CallbackCommand":
			return seen(&mask, 0) && s.string(&b.CallbackCommand)
		case "CallInfo":
			return seen(&mask, 1) && s.callInfo(b)
		case "CallRecord":
			start, end, ok := s.value()
			return seen(&mask, 2) && ok && json.Unmarshal(body[start:end], &b.CallRecord) == nil
		case "CallId":
			return seen(&mask, 3) && s.string(&b.CallId)
		case "UserList":
			return seen(&mask, 4) && s.users(&b.UserList)
		case "ChangedUserList":
			return seen(&mask, 5) && s.users(&b.ChangedUserList)
		case "EventTime":
			return seen(&mask, 6) && s.int(&b.EventTime)
		}
		return s.other(key, v4Names)
	})
}

func (s *scanner) callInfo(b *v4Callback) bool {
	if s.null() {
		return true
	}
	b.CallInfo = new(v4Info)
	ci := b.CallInfo
	var mask uint32
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "CallId":
			return seen(&mask, 0) && s.string(&ci.CallId)
		case "CallMediaType":
			return seen(&mask, 1) && s.string(&ci.CallMediaType)
		case "MediaType":
			return seen(&mask, 2) && s.string(&ci.MediaType)
		case "ChatGroupId":
			return seen(&mask, 3) && s.string(&ci.ChatGroupId)
		case "RoomId":
			return seen(&mask, 4) && s.string(&ci.RoomId)
		case "RoomIdType":
			return seen(&mask, 5) && s.int(&ci.RoomIdType)
		}
		return s.other(key, v4InfoNames)
	})
}

func (s *scanner) users(list *[]v4User) bool {
	if s.null() {
		return true
	}
	out := make([]v4User, 0, 4)
	ok := s.array(func() bool {
		var u v4User
		var mask uint32
		ok := s.object(func(key []byte) bool {
			switch string(key) {
			case "User_Account":
				return seen(&mask, 0) && s.string(&u.User_Account)
			case "Status":
				return seen(&mask, 1) && s.string(&u.Status)
			case "ActionType":
				return seen(&mask, 2) && s.string(&u.ActionType)
			}
			return s.other(key, v4UserNames)
		})
		out = append(out, u)
		return ok
	})
	*list = out
	return ok
}

// fastV1 decodes a v1 body into b (zero) as jsonx.Decode would, or
// reports false.
func fastV1(body []byte, raw string, b *v1Callback) bool {
	var mask uint32
	return document(body, raw, func(s *scanner, key []byte) bool {
		switch string(key) {
		case "UserId":
			return seen(&mask, 0) && s.string(&b.UserId)
		case "RoomId":
			return seen(&mask, 1) && s.string(&b.RoomId)
		case "TotalNum":
			return seen(&mask, 2) && s.int(&b.TotalNum)
		case "MediaType":
			return seen(&mask, 3) && s.string(&b.MediaType)
		case "CallType":
			return seen(&mask, 4) && s.string(&b.CallType)
		case "CallId":
			return seen(&mask, 5) && s.string(&b.CallId)
		case "Role":
			return seen(&mask, 6) && s.string(&b.Role)
		case "Event":
			return seen(&mask, 7) && s.string(&b.Event)
		case "CallResult":
			return seen(&mask, 8) && s.string(&b.CallResult)
		case "EventTime":
			return seen(&mask, 9) && s.int(&b.EventTime)
		case "StartCallTs":
			return seen(&mask, 10) && s.int(&b.StartCallTs)
		case "AcceptTs":
			return seen(&mask, 11) && s.int(&b.AcceptTs)
		case "EndTs":
			return seen(&mask, 12) && s.int(&b.EndTs)
		}
		return s.other(key, v1Names)
	})
}
