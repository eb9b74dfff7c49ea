package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
)

// authFailure is why a REST request's signature was refused, in both
// generations' codes.
type authFailure struct {
	v4, v1 int
	info   string
}

// checkREST checks a v4 or v1 request's query: sdkappid, identifier,
// usersig (verified with VerifyUserSig at the sandbox's clock), random and
// contenttype. It reports nil when the request may proceed.
func (s *Sandbox) checkREST(q url.Values) *authFailure {
	get := func(k string) string { return q.Get(k) }
	if ct := get("contenttype"); ct != "json" {
		return &authFailure{60002, 70001, "contenttype must be json"}
	}
	appStr := get("sdkappid")
	if appStr == "" {
		return &authFailure{60012, 70001, "the request carries no sdkappid"}
	}
	app, err := strconv.ParseUint(appStr, 10, 64)
	if err != nil {
		return &authFailure{60002, 70001, "sdkappid is not a number"}
	}
	if app != s.o.SDKAppID {
		return &authFailure{70020, 70002, "SDKAppID " + appStr + " not found in this data center"}
	}
	if r := get("random"); r == "" {
		return &authFailure{60002, 70001, "random is required"}
	} else if _, err := strconv.ParseUint(r, 10, 32); err != nil {
		return &authFailure{60002, 70001, "random must be a 32-bit unsigned integer"}
	}
	id := get("identifier")
	if id == "" {
		return &authFailure{60004, 70002, "identifier is required"}
	}
	sig := get("usersig")
	if sig == "" {
		return &authFailure{70002, 70002, "usersig is empty"}
	}
	if f := s.verifySig(id, sig); f != nil {
		return f
	}
	if id != s.o.Admin {
		return &authFailure{60010, 70004, "the request needs an app administrator, and " + id + " is not one"}
	}
	return nil
}

// verifySig checks a UserSig for user as Tencent does.
func (s *Sandbox) verifySig(user, sig string) *authFailure {
	err := tencentyun.VerifyUserSig(s.o.SDKAppID, s.o.Key, user, sig, s.o.Clock())
	switch {
	case err == nil:
		s.mu.Lock()
		if len(s.sigs) < maxCalls {
			s.sigs[sig] = true
		}
		s.mu.Unlock()
		return nil
	case errors.Is(err, tencentyun.ErrExpired):
		return &authFailure{70001, 70003, "UserSig expired"}
	case errors.Is(err, tencentyun.ErrSdkAppIDNotMatch):
		return &authFailure{70014, 70002, "the SDKAppID differs from the UserSig's"}
	case errors.Is(err, tencentyun.ErrIdentifierNotMatch):
		return &authFailure{70013, 70002, "the identifier differs from the UserSig's"}
	case errors.Is(err, tencentyun.ErrSigNotMatch):
		return &authFailure{70009, 70002, "UserSig verification failed: signed with another key"}
	}
	return &authFailure{70003, 70002, "UserSig is malformed"}
}

// Cloud API 3.0 signing (TC3-HMAC-SHA256).

// cloudRegions are the regions StartStreamIngest supports (China and
// international sites together).
var cloudRegions = map[string]bool{
	"ap-bangkok": true, "ap-beijing": true, "ap-chongqing": true, "ap-guangzhou": true, "ap-jakarta": true,
	"ap-mumbai": true, "ap-shanghai": true, "ap-singapore": true, "ap-tokyo": true,
}

// cloudError is a Cloud API error answer.
type cloudError struct{ code, msg string }

// checkTC3 verifies a Cloud API request's Authorization header for service
// over body, as Tencent Cloud does.
func (s *Sandbox) checkTC3(r *http.Request, service string, body []byte) *cloudError {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "TC3-HMAC-SHA256 ")
	if !ok {
		return &cloudError{"AuthFailure.InvalidAuthorization", "Authorization is not TC3-HMAC-SHA256"}
	}
	parts := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[k] = v
	}
	cred := strings.Split(parts["Credential"], "/")
	if len(cred) != 4 || cred[3] != "tc3_request" || parts["SignedHeaders"] == "" || parts["Signature"] == "" {
		return &cloudError{"AuthFailure.InvalidAuthorization", "Authorization is malformed"}
	}
	secretID, date, svc := cred[0], cred[1], cred[2]
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil {
		return &cloudError{"MissingParameter", "X-TC-Timestamp is required"}
	}
	if d := s.o.Clock().Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return &cloudError{"AuthFailure.SignatureExpire", "the signature has expired: check the clock"}
	}
	if svc != service || date != time.Unix(ts, 0).UTC().Format("2006-01-02") {
		return &cloudError{"AuthFailure.InvalidAuthorization", "the Credential scope does not match the request"}
	}
	if secretID != s.o.CloudSecretID {
		return &cloudError{"AuthFailure.SecretIdNotFound", "the SecretId does not exist"}
	}
	signed := strings.Split(parts["SignedHeaders"], ";")
	var canonHeaders strings.Builder
	for _, h := range signed {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		canonHeaders.WriteString(h + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n")
	}
	payloadHash := sha256Hex(body)
	if r.Header.Get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD" {
		payloadHash = sha256Hex([]byte("UNSIGNED-PAYLOAD"))
	}
	canonical := strings.Join([]string{r.Method, "/", r.URL.RawQuery, canonHeaders.String(), parts["SignedHeaders"], payloadHash}, "\n")
	scope := date + "/" + service + "/tc3_request"
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
	k := hmacSHA256([]byte("TC3"+s.o.CloudSecretKey), date)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "tc3_request")
	want := hex.EncodeToString(hmacSHA256(k, toSign))
	if subtle.ConstantTimeCompare([]byte(want), []byte(parts["Signature"])) != 1 {
		return &cloudError{"AuthFailure.SignatureFailure", "the signature does not match"}
	}
	return nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
