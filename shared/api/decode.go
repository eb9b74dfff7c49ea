package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// BodyError is a request body that could not be read as the expected JSON:
// not JSON at all (Offset, Line and Column say where it breaks), a field of
// the wrong type, or a field the API does not know.
type BodyError struct {
	Msg    string
	Field  string // the field at fault, as a path such as CallInfo.RoomIdType
	Offset int64  // byte offset of the fault (0-based), for syntax errors
	Line   int    // 1-based line and column of Offset
	Column int
}

func (e *BodyError) Error() string { return e.Msg }

// Fields are the error's details for an Error reply.
func (e *BodyError) Fields() []any {
	var f []any
	if e.Field != "" {
		f = append(f, "field", e.Field)
	}
	if e.Line > 0 {
		f = append(f, "offset", e.Offset, "line", e.Line, "column", e.Column)
	}
	return f
}

// Decode reads body, which must hold exactly one JSON value, into v. Object
// keys must match v's field names exactly (case included, as the provider
// reads them): an unknown or misspelled key is an error that names it.
// Every failure is a *BodyError.
func Decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &BodyError{Msg: "the body is empty: it must be a JSON object"}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var tree any
	if err := d.Decode(&tree); err != nil {
		return syntaxError(body, err)
	}
	if off := d.InputOffset(); d.More() {
		for off < int64(len(body)) && strings.ContainsRune(" \t\r\n", rune(body[off])) {
			off++
		}
		return at(body, off, "the body holds more than one JSON value")
	}
	if err := checkKeys(tree, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := cleanField(reflect.TypeOf(v), te.Field)
			return &BodyError{Field: field, Msg: fmt.Sprintf("%s: want %s, got a JSON %s", orBody(field), describe(te.Type), te.Value)}
		}
		return &BodyError{Msg: err.Error()}
	}
	return nil
}

// cleanField drops from an UnmarshalTypeError's field path the names of
// embedded structs, which are not JSON keys.
func cleanField(t reflect.Type, path string) string {
	if path == "" {
		return ""
	}
	var out []string
	for _, seg := range strings.Split(path, ".") {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			out = append(out, seg)
			t = nil
			continue
		}
		if f, ok := t.FieldByName(seg); ok && f.Anonymous && f.Tag.Get("json") == "" {
			t = f.Type
			continue
		}
		out = append(out, seg)
		if ft, ok := jsonFields(t)[seg]; ok {
			t = ft
		} else {
			t = nil
		}
	}
	return strings.Join(out, ".")
}

func orBody(field string) string {
	if field == "" {
		return "the body"
	}
	return field
}

// describe names a Go type in JSON's words.
func describe(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.String()
}

// syntaxError locates a JSON syntax error in body.
func syntaxError(body []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return at(body, se.Offset-1, "the body is not JSON: "+se.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return at(body, int64(len(body)), "the body is not JSON: it ends before the JSON value does")
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return at(body, te.Offset, "the body is not a JSON object")
	}
	return &BodyError{Msg: "the body is not JSON: " + err.Error()}
}

// at builds a BodyError pointing at byte offset off of body.
func at(body []byte, off int64, msg string) *BodyError {
	off = max(0, min(off, int64(len(body))))
	line := 1 + bytes.Count(body[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(body[:off], '\n')
	return &BodyError{Msg: fmt.Sprintf("%s (line %d, column %d, byte offset %d)", msg, line, col, off),
		Offset: off, Line: line, Column: col}
}

var (
	rawMessage  = reflect.TypeOf(json.RawMessage(nil))
	unmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	textUnm     = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// checkKeys walks a decoded JSON tree alongside the Go type it will fill and
// refuses object keys that no field is named exactly.
func checkKeys(tree any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessage || reflect.PointerTo(t).Implements(unmarshaler) || reflect.PointerTo(t).Implements(textUnm) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := tree.(map[string]any)
		if !ok {
			return nil // a type error, reported by Unmarshal
		}
		fields := jsonFields(t)
		for k, v := range obj {
			ft, ok := fields[k]
			if !ok {
				msg := fmt.Sprintf("unknown field %q", join(path, k))
				for name := range fields {
					if strings.EqualFold(name, k) {
						msg += fmt.Sprintf(" (the field is spelled %q)", name)
					}
				}
				return &BodyError{Field: join(path, k), Msg: msg}
			}
			if err := checkKeys(v, ft, join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		arr, ok := tree.([]any)
		if !ok {
			return nil
		}
		for i, v := range arr {
			if err := checkKeys(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// jsonFields maps a struct's JSON names to field types, following embedded
// structs as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			et := ft
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for k, v := range jsonFields(et) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = ft
	}
	return out
}
