// Package jsonx holds the tolerant JSON field types that providers' callbacks
// need: numbers that arrive as strings and strings that arrive as numbers
// (including integers wider than a float64 holds), and arrays that arrive
// encoded inside a JSON string. encoding/json has no option for these; each
// type here is small and keeps the value losslessly.
package jsonx

import (
	gojson "github.com/goccy/go-json"

	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

var null = []byte("null")

// String accepts a JSON string, a number (kept as its literal text, so an
// 18-digit account number survives exactly), a boolean, or null.
type String string

func (s *String) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, null):
		*s = ""
		return nil
	case len(b) > 1 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0:
		// No escapes: the text between the quotes is the string (the
		// decoder calling us has already checked it is valid JSON).
		*s = String(b[1 : len(b)-1])
		return nil
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = String(v)
		return nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		if !json.Valid(b) {
			return fmt.Errorf("jsonx: invalid number %q", b)
		}
		*s = String(b)
		return nil
	case bytes.Equal(b, []byte("true")), bytes.Equal(b, []byte("false")):
		*s = String(b)
		return nil
	}
	return fmt.Errorf("jsonx: want a string or a number, got %.20q", b)
}

// Int accepts a JSON integer, an integer in a string, or null/"" (zero).
// A fractional value is truncated toward zero; anything else is an error.
type Int int64

func (n *Int) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, null) {
		*n = 0
		return nil
	}
	// The usual plain integer, without making a string of it first.
	if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*n = Int(v)
		return nil
	}
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		text = strings.TrimSpace(text)
		if text == "" {
			*n = 0
			return nil
		}
	}
	v, err := ParseInt(text)
	if err != nil {
		return err
	}
	*n = Int(v)
	return nil
}

// ParseInt reads an integer written as JSON writes numbers, tolerating a
// fractional part or exponent when the value is integral enough to matter.
func ParseInt(text string) (int64, error) {
	if v, err := strconv.ParseInt(text, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	// Only a decimal literal that int64 holds: ParseFloat also reads "NaN",
	// "Inf" and hex floats, and converting a non-finite or out-of-range
	// float to int64 yields a platform-defined value, not an error.
	if err != nil || math.IsNaN(f) || f >= 1<<63 || f < -(1<<63) || !isDecimal(text) {
		return 0, fmt.Errorf("jsonx: want an integer, got %.20q", text)
	}
	return int64(f), nil
}

// isDecimal reports whether text is written only with decimal digits, a
// sign, a point and an exponent, as JSON writes numbers.
func isDecimal(text string) bool {
	for _, c := range text {
		if !strings.ContainsRune("0123456789+-.eE", c) {
			return false
		}
	}
	return text != ""
}

// Decode unmarshals body, which must hold exactly one JSON object and
// nothing after it but white space, into v. A callback body that is null,
// an array, a scalar, or an object followed by anything (even a stray "}"
// or "]", which json.Decoder.More does not report) is refused. So is a body
// that is not valid UTF-8 (RFC 8259 §8.1): encoding/json would read it,
// replacing the bad bytes, and the body could then not be kept exactly as
// received in a JSON string.
func Decode(body []byte, v any) error {
	if err := checkObject(body); err != nil {
		return err
	}
	// Unmarshal refuses anything but white space after the one value.
	return json.Unmarshal(body, v)
}

func checkObject(body []byte) error {
	if !utf8.Valid(body) {
		return errors.New("body is not valid UTF-8")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("want a JSON object")
	}
	return nil
}

// DecodeFast is Decode through github.com/goccy/go-json, a drop-in
// encoding/json that decodes into a struct without most of encoding/json's
// reflection: decoding was a fifth of the webhook handler's CPU per
// callback (bench's BenchmarkHandlerCost). Whatever go-json refuses is
// decoded again by Decode from a zero value, so a refusal and its text are
// always encoding/json's. It is for the webhook's hot path, whose types
// a differential fuzz test holds to Decode's result (tencent/callback's
// FuzzDecode).
func DecodeFast[T any](body []byte, v *T) error {
	if checkObject(body) == nil && goJSON(body, v) {
		return nil
	}
	var zero T
	*v = zero
	return Decode(body, v)
}

// goJSON reports whether go-json decoded body into v. go-json is built on
// unsafe, and body is untrusted: should it ever panic, that is a refusal,
// and Decode reads the body instead.
func goJSON(body []byte, v any) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return gojson.Unmarshal(body, v) == nil
}

// Bool accepts true/false, "true"/"false", 1/0 and null.
type Bool bool

func (v *Bool) UnmarshalJSON(b []byte) error {
	var s String
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	switch strings.ToLower(string(s)) {
	case "true", "1":
		*v = true
	case "false", "0", "":
		*v = false
	default:
		return fmt.Errorf("jsonx: want a boolean, got %.20q", string(s))
	}
	return nil
}

// List is an array of T that may also arrive as a JSON string holding the
// array (Yunxin's "members" and "fileinfo"), or as null or "".
type List[T any] []T

func (l *List[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, null) {
		*l = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var inner string
		if err := json.Unmarshal(b, &inner); err != nil {
			return err
		}
		inner = strings.TrimSpace(inner)
		if inner == "" {
			*l = nil
			return nil
		}
		b = []byte(inner)
	}
	var v []T
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("jsonx: want an array: %w", err)
	}
	*l = v
	return nil
}
