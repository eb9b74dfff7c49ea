// Package api holds what callfn's own HTTP APIs (/calls, /records) share:
// bearer-token authentication, JSON replies and errors, and strict reading
// of JSON request bodies with errors that say where and what.
package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// RequireBearer lets a request through only with
// "Authorization: Bearer <token>" (compared in constant time). With no
// token configured it refuses every request.
func RequireBearer(token string, next http.HandlerFunc) http.HandlerFunc {
	want := sha256.Sum256([]byte(token))
	return func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			Error(w, http.StatusForbidden, "this API is closed: CALLFN_API_TOKEN is not set, so every request is refused")
			return
		}
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(got) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="callfn"`)
			Error(w, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer $CALLFN_API_TOKEN")
			return
		}
		// Hashing first makes the comparison independent of the lengths.
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="callfn", error="invalid_token"`)
			Error(w, http.StatusUnauthorized, "wrong bearer token")
			return
		}
		next(w, r)
	}
}

// JSON writes v as a JSON reply with status.
func JSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"could not encode the reply"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// Error writes {"error": msg, ...fields} with status. fields are key, value
// pairs.
func Error(w http.ResponseWriter, status int, msg string, fields ...any) {
	body := map[string]any{"error": msg}
	for i := 0; i+1 < len(fields); i += 2 {
		if k, ok := fields[i].(string); ok {
			body[k] = fields[i+1]
		}
	}
	JSON(w, status, body)
}

// ErrTooLarge is returned by ReadBody for a body over its limit.
var ErrTooLarge = errors.New("api: request body too large")

// ReadBody reads r's body, up to limit bytes (http.MaxBytesReader); a
// longer body is ErrTooLarge.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, ErrTooLarge
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}
