package callback

import (
	"errors"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// The vector Tencent publishes (spec §1.4).
const (
	vectorToken = "xxxxyyyy"
	vectorTime  = "1669872112"
	vectorSign  = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"
)

func TestCallbackSignPublishedVector(t *testing.T) {
	if got := Sign(vectorToken, vectorTime); got != vectorSign {
		t.Fatalf("Sign = %s, want %s", got, vectorSign)
	}
	if err := verifySign(vectorToken, vectorTime, vectorSign, time.Unix(1669872112, 0)); err != nil {
		t.Fatalf("verifySign(vector) = %v", err)
	}
}

func TestCallbackSignWindowEdges(t *testing.T) {
	rt := time.Unix(1669872112, 0)
	for _, tc := range []struct {
		now time.Time
		err error
	}{
		{rt, nil},
		{rt.Add(SignWindow), nil},
		{rt.Add(-SignWindow), nil},
		{rt.Add(SignWindow + time.Second), ErrSignExpired},
		{rt.Add(-SignWindow - time.Second), ErrSignExpired},
		{rt.Add(SignWindow + time.Millisecond), ErrSignExpired},
		{rt.Add(-SignWindow - time.Millisecond), ErrSignExpired},
		{rt.Add(24 * time.Hour), ErrSignExpired},
		{time.Unix(0, 0), ErrSignExpired},
	} {
		err := verifySign(vectorToken, vectorTime, vectorSign, tc.now)
		if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
			t.Errorf("now = RequestTime%+v: err = %v, want %v", tc.now.Sub(rt), err, tc.err)
		}
	}
	if SignWindow != 5*time.Minute {
		t.Errorf("SignWindow = %v, want ±5 min", SignWindow)
	}
}

func TestCallbackSignRefusals(t *testing.T) {
	now := time.Unix(1669872112, 0)
	for _, tc := range []struct {
		name, token, rt, sign string
		want                  error
	}{
		{"no sign", vectorToken, vectorTime, "", ErrNotSigned},
		{"no time", vectorToken, "", vectorSign, ErrNotSigned},
		{"neither", vectorToken, "", "", ErrNotSigned},
		{"wrong token", "xxxxyyyz", vectorTime, vectorSign, ErrBadSign},
		{"time not the signed one", vectorToken, "1669872113", vectorSign, ErrBadSign},
		{"sign truncated", vectorToken, vectorTime, vectorSign[:63], ErrBadSign},
		{"sign of the token alone", vectorToken, vectorTime, Sign(vectorToken, ""), ErrBadSign},
		// An HMAC is not what Tencent sends: a plain hash of the concatenation.
		{"sign of time+token", vectorToken, vectorTime, Sign(vectorTime, vectorToken), ErrBadSign},
		// A correctly signed but non-numeric time is still refused.
		{"non-numeric time", vectorToken, "soon", Sign(vectorToken, "soon"), ErrBadSign},
	} {
		if err := verifySign(tc.token, tc.rt, tc.sign, now); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestCallbackVerifyURL(t *testing.T) {
	now := time.Unix(1669872112, 0)
	for _, q := range []url.Values{
		{"RequestTime": {vectorTime}, "Sign": {vectorSign}},
		{"requesttime": {vectorTime}, "sign": {vectorSign}},
	} {
		if err := verifyURL(q, vectorToken, now); err != nil {
			t.Errorf("%v: %v", q, err)
		}
	}
	if err := verifyURL(url.Values{"SdkAppid": {"1"}}, vectorToken, now); !errors.Is(err, ErrNotSigned) {
		t.Errorf("unsigned URL: %v", err)
	}
	// A fresh RequestTime with a fresh Sign, as a retry carries.
	later := now.Add(time.Hour)
	rt := strconv.FormatInt(later.Unix(), 10)
	q := url.Values{"RequestTime": {rt}, "Sign": {Sign(vectorToken, rt)}}
	if err := verifyURL(q, vectorToken, later); err != nil {
		t.Errorf("retry: %v", err)
	}
}
