package callback

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Callback authentication (Tencent Chat family, spec §1.4): with a callback
// token configured, Tencent appends RequestTime (Unix seconds) and
// Sign = hex(sha256(Token + RequestTime)) to the callback URL. The sign does
// not cover the body.

// Why a callback's Sign was refused (with a callback token configured).
var (
	ErrNotSigned   = errors.New("tencent: callback carries no Sign or RequestTime")
	ErrBadSign     = errors.New("tencent: callback Sign does not match")
	ErrSignExpired = errors.New("tencent: callback RequestTime is outside the accepted window")
)

// SignWindow is how far RequestTime may be from now, either way.
const SignWindow = 5 * time.Minute

// Sign computes the Sign Tencent sends for token and requestTime: what the
// sandbox and tests put on the callbacks they send.
func Sign(token, requestTime string) string {
	sum := sha256.Sum256([]byte(token + requestTime))
	return hex.EncodeToString(sum[:])
}

// verifySign checks sign and requestTime (the URL's Sign and
// RequestTime) against token at now, in constant time.
func verifySign(token, requestTime, sign string, now time.Time) error {
	if sign == "" || requestTime == "" {
		return ErrNotSigned
	}
	want := Sign(token, requestTime)
	if subtle.ConstantTimeCompare([]byte(want), []byte(sign)) != 1 {
		return ErrBadSign
	}
	sec, err := strconv.ParseInt(requestTime, 10, 64)
	if err != nil {
		return ErrBadSign
	}
	if d := now.Sub(time.Unix(sec, 0)); d > SignWindow || d < -SignWindow {
		return ErrSignExpired
	}
	return nil
}
