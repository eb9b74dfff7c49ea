package records

import (
	"errors"
	"net/http"
	"strings"

	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"

	"github.com/callfn/callfn/shared/api"
)

// GET /users/{userId}/calls (bearer token) and GET /me/calls (the user's
// own UserSig) answer one user's history: the calls they took part in, as
// caller or callee, newest first, with the table lists' user parameters
// (history.go) and answer.

// MaxUserSig bounds the UserSig /me/calls reads: tls-sig-api-v2 UserSigs
// are a few hundred bytes, and a longer one is not decompressed.
const MaxUserSig = 2048

func (s *Service) userCalls(w http.ResponseWriter, r *http.Request) {
	user := r.PathValue("userId")
	if err := checkUserID(user); err != nil {
		api.Error(w, http.StatusBadRequest, "userId: "+err.Error(), "field", "userId")
		return
	}
	s.listHistory(w, r, RouteUserCalls, user)
}

func (s *Service) myCalls(w http.ResponseWriter, r *http.Request) {
	user, status, err := s.userSigUser(r)
	if err != nil {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `UserSig realm="callfn"`)
		}
		api.Error(w, status, err.Error())
		return
	}
	s.listHistory(w, r, RouteMyCalls, user)
}

// userSigUser is the user a request to /me/calls proves it is:
// "Authorization: UserSig <userSig>" and "X-User-Id: <userId>", verified
// with tls-sig-api-v2's VerifyUserSig against the app's SDKAppID and key
// at the service's clock. An expired UserSig, one for another app or
// another user, or one not signed with the app's key, is a 401; with no
// key configured the route cannot verify anything and answers 503.
func (s *Service) userSigUser(r *http.Request) (string, int, error) {
	if s.cfg.TencentAppID == 0 || s.cfg.TencentKey == "" {
		return "", http.StatusServiceUnavailable, errors.New("GET /me/calls verifies UserSigs with the Tencent app's key, and none is configured: set CALLFN_TENCENT_SDKAPPID and CALLFN_TENCENT_SECRET_KEY")
	}
	scheme, sig, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	sig = strings.TrimSpace(sig)
	if !ok || !strings.EqualFold(scheme, "UserSig") || sig == "" {
		return "", http.StatusUnauthorized, errors.New("missing UserSig: send Authorization: UserSig <userSig> and X-User-Id: <userId>")
	}
	user := r.Header.Get("X-User-Id")
	if user == "" {
		return "", http.StatusUnauthorized, errors.New("missing X-User-Id: send the user id the UserSig was made for")
	}
	if err := checkUserID(user); err != nil {
		return "", http.StatusUnauthorized, errors.New("X-User-Id " + err.Error())
	}
	if len(sig) > MaxUserSig {
		return "", http.StatusUnauthorized, errors.New("the UserSig is too long to be one")
	}
	err := tencentyun.VerifyUserSig(s.cfg.TencentAppID, s.cfg.TencentKey, user, sig, s.now())
	switch {
	case err == nil:
		return user, 0, nil
	case errors.Is(err, tencentyun.ErrExpired):
		return "", http.StatusUnauthorized, errors.New("the UserSig has expired: get a new one")
	case errors.Is(err, tencentyun.ErrSdkAppIDNotMatch):
		return "", http.StatusUnauthorized, errors.New("the UserSig is not for this app (or not a UserSig)")
	case errors.Is(err, tencentyun.ErrIdentifierNotMatch):
		return "", http.StatusUnauthorized, errors.New("the UserSig was made for another user than X-User-Id")
	case errors.Is(err, tencentyun.ErrSigNotMatch):
		return "", http.StatusUnauthorized, errors.New("the UserSig is not signed with this app's key")
	}
	return "", http.StatusUnauthorized, errors.New("not a valid UserSig")
}
