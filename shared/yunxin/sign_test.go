package yunxin

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/testkit"
)

const (
	testKey    = "158983881e4d219453d6542"
	testSecret = "s3cr3t"
)

// A vector computed outside Go (Python's hashlib) over testdata/callback_20.json.
func TestSignVector(t *testing.T) {
	body := testkit.Fixture(t, "callback_20.json")
	const (
		curTime = "1573459861008"
		md5     = "47a10dc083dbbab4e10c0011febb189c"
		sum     = "c9d74f48085ceef5451799ea51770b68e9b31a57"
	)
	if got := BodyMD5(body); got != md5 {
		t.Fatalf("BodyMD5 = %s, want %s", got, md5)
	}
	if got := CheckSum(testSecret, md5, curTime); got != sum {
		t.Fatalf("CheckSum = %s, want %s", got, sum)
	}
	h := http.Header{}
	Sign(h, testKey, testSecret, body, time.UnixMilli(1573459861008))
	for name, want := range map[string]string{"AppKey": testKey, "CurTime": curTime, "MD5": md5, "CheckSum": sum} {
		if got := h.Get(name); got != want {
			t.Errorf("Sign set %s = %q, want %q", name, got, want)
		}
	}
	if err := Verify(h, body, testKey, testSecret, time.UnixMilli(1573459861008)); err != nil {
		t.Fatalf("Verify(signed) = %v", err)
	}
}

func signed(body []byte, now time.Time) http.Header {
	h := http.Header{}
	Sign(h, testKey, testSecret, body, now)
	return h
}

func TestVerifyRefusals(t *testing.T) {
	body := testkit.Fixture(t, "callback_20.json")
	now := time.UnixMilli(1700000000000)
	tampered := []byte(strings.Replace(string(body), `"rss02"`, `"rss03"`, 1))
	for _, tc := range []struct {
		name string
		h    http.Header
		body []byte
		key  string
		sec  string
		want error
	}{
		{"unsigned", http.Header{}, body, testKey, testSecret, ErrNotSigned},
		{"no CheckSum", without(signed(body, now), "CheckSum"), body, testKey, testSecret, ErrNotSigned},
		{"no MD5", without(signed(body, now), "MD5"), body, testKey, testSecret, ErrNotSigned},
		{"no CurTime", without(signed(body, now), "CurTime"), body, testKey, testSecret, ErrNotSigned},
		{"no AppKey", without(signed(body, now), "AppKey"), body, testKey, testSecret, ErrNotSigned},
		{"one byte of the body changed", signed(body, now), tampered, testKey, testSecret, ErrBadMD5},
		{"a byte appended", signed(body, now), append(append([]byte{}, body...), ' '), testKey, testSecret, ErrBadMD5},
		{"wrong secret", signed(body, now), body, testKey, "other-secret", ErrBadCheckSum},
		{"wrong AppKey", signed(body, now), body, "another-app", testSecret, ErrWrongAppKey},
		{"MD5 and CheckSum recomputed for the tampered body with another secret", func() http.Header {
			h := http.Header{}
			Sign(h, testKey, "guess", tampered, now)
			return h
		}(), tampered, testKey, testSecret, ErrBadCheckSum},
		{"CurTime changed", with(signed(body, now), "CurTime", "1700000000001"), body, testKey, testSecret, ErrBadCheckSum},
		{"CurTime not a number, signed", func() http.Header {
			h := signed(body, now)
			h.Set("CurTime", "soon")
			h.Set("CheckSum", CheckSum(testSecret, h.Get("MD5"), "soon"))
			return h
		}(), body, testKey, testSecret, ErrBadCheckSum},
	} {
		err := Verify(tc.h, tc.body, tc.key, tc.sec, now)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func without(h http.Header, name string) http.Header { h.Del(name); return h }
func with(h http.Header, name, v string) http.Header { h.Set(name, v); return h }

func TestVerifyWindowEdges(t *testing.T) {
	body := []byte(`{}`)
	sent := time.UnixMilli(1700000000000)
	h := signed(body, sent)
	for _, tc := range []struct {
		now time.Time
		ok  bool
	}{
		{sent, true},
		{sent.Add(Window), true},
		{sent.Add(-Window), true},
		{sent.Add(Window + time.Millisecond), false},
		{sent.Add(-Window - time.Millisecond), false},
		{sent.Add(time.Hour), false},
	} {
		err := Verify(h, body, testKey, testSecret, tc.now)
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrTooOld) {
			t.Errorf("now = CurTime%+v: err = %v, want ok=%v", tc.now.Sub(sent), err, tc.ok)
		}
	}
}

// Header names arrive in either case (spec §5): on the wire net/http
// canonicalizes them, but a header map built by other code may hold them
// as sent.
func TestVerifyHeaderCase(t *testing.T) {
	body := testkit.Fixture(t, "callback_21.json")
	now := time.UnixMilli(1700000000000)
	s := signed(body, now)
	for _, names := range [][4]string{
		{"appkey", "curtime", "md5", "checksum"},
		{"APPKEY", "CURTIME", "MD5", "CHECKSUM"},
		{"AppKey", "CurTime", "MD5", "CheckSum"},
		{"Appkey", "Curtime", "Md5", "Checksum"},
	} {
		h := http.Header{}
		for i, canon := range []string{"AppKey", "CurTime", "MD5", "CheckSum"} {
			h[names[i]] = []string{s.Get(canon)} // as sent, not canonicalized
		}
		if err := Verify(h, body, testKey, testSecret, now); err != nil {
			t.Errorf("%v: %v", names, err)
		}
	}
	// Hex digits in upper case: the MD5 compares in any case, and the
	// CheckSum is over the MD5 as sent.
	h := http.Header{}
	up := strings.ToUpper(BodyMD5(body))
	h.Set("AppKey", testKey)
	h.Set("CurTime", "1700000000000")
	h.Set("MD5", up)
	h.Set("CheckSum", strings.ToUpper(CheckSum(testSecret, up, "1700000000000")))
	if err := Verify(h, body, testKey, testSecret, now); err != nil {
		t.Errorf("upper-case hex: %v", err)
	}
}
