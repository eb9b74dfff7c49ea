// Package yunxin is NetEase Yunxin's callback protocol, both channels (spec
// §5): header signing, and the tolerant parsing of the third-party callback
// channel (eventType 20, 21) and the copy channel (eventType 5, 6).
package yunxin

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors from Verify, for mapping to HTTP statuses with errors.Is.
var (
	ErrNotSigned   = errors.New("yunxin: request lacks AppKey, CurTime, MD5 or CheckSum")
	ErrWrongAppKey = errors.New("yunxin: AppKey is not this app's")
	ErrBadMD5      = errors.New("yunxin: MD5 does not match the body")
	ErrBadCheckSum = errors.New("yunxin: CheckSum does not match")
	ErrTooOld      = errors.New("yunxin: CurTime is outside the accepted window")
)

// Window is how far CurTime may be from now, either way: Yunxin documents
// five minutes for API requests and nothing for callbacks.
const Window = 5 * time.Minute

// BodyMD5 is the MD5 header value for body.
func BodyMD5(body []byte) string {
	sum := md5.Sum(body)
	return hex.EncodeToString(sum[:])
}

// CheckSum is hex(sha1(AppSecret + MD5 + CurTime)).
func CheckSum(appSecret, bodyMD5, curTime string) string {
	sum := sha1.Sum([]byte(appSecret + bodyMD5 + curTime))
	return hex.EncodeToString(sum[:])
}

// Sign sets the four signing headers on h for body, as Yunxin does; the
// local sandbox and tests use it.
func Sign(h http.Header, appKey, appSecret string, body []byte, now time.Time) {
	curTime := strconv.FormatInt(now.UnixMilli(), 10)
	m := BodyMD5(body)
	h.Set("AppKey", appKey)
	h.Set("CurTime", curTime)
	h.Set("MD5", m)
	h.Set("CheckSum", CheckSum(appSecret, m, curTime))
}

// Verify checks a callback's headers over the exact body bytes, before any
// parse: the MD5 of the body, then the CheckSum, then the AppKey, then the
// time window. Header names are matched in any case, also in a header map
// whose keys were not canonicalized (http.Header.Get alone misses those).
func Verify(h http.Header, body []byte, appKey, appSecret string, now time.Time) error {
	gotKey, curTime, gotMD5, sum := header(h, "AppKey"), header(h, "CurTime"), header(h, "MD5"), header(h, "CheckSum")
	if gotKey == "" || curTime == "" || gotMD5 == "" || sum == "" {
		return ErrNotSigned
	}
	if !equalFold(BodyMD5(body), gotMD5) {
		return ErrBadMD5
	}
	if !equalFold(CheckSum(appSecret, gotMD5, curTime), sum) {
		return ErrBadCheckSum
	}
	if subtle.ConstantTimeCompare([]byte(gotKey), []byte(appKey)) != 1 {
		return ErrWrongAppKey
	}
	ms, err := strconv.ParseInt(curTime, 10, 64)
	if err != nil {
		return ErrBadCheckSum
	}
	if d := now.Sub(time.UnixMilli(ms)); d > Window || d < -Window {
		return ErrTooOld
	}
	return nil
}

// header is h's first value for name, whatever the case of the map's key.
func header(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, name) {
			return v[0]
		}
	}
	return ""
}

// equalFold compares two hex digests in constant time, ignoring case.
func equalFold(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(toLower(got))) == 1
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'F' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
