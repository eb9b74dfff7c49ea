// Package upstream decides the HTTP status callfn's own APIs (/calls,
// /records) answer with when a request to Tencent failed. The decision is
// the functions', not the protocol package's: tencent/rest reports what
// went wrong as error kinds (rest.ErrBadRequest, rest.ErrRateLimited, ...)
// and knows nothing of callfn's replies.
//
// It is its own package, rather than a function in shared/api or an
// unexported copy in each of startcall and records, because both of those
// need the same mapping and the webhook, which imports shared/api, must not
// link tencent/rest.
package upstream

import (
	"context"
	"errors"
	"net/http"

	"github.com/callfn/callfn/shared/tencent/rest"
)

// Status is the status callfn answers with for err: bad parameters 400, a
// call or record that does not exist 404, rate limited 429, Tencent
// unreachable or timed out 504, and every other Tencent failure
// (credentials, region, package...) 502. A non-Tencent error is 500, or
// 504 when it is a deadline; nil is 200.
func Status(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, rest.ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, rest.ErrCallNotFound), errors.Is(err, rest.ErrRecordNotFound):
		return http.StatusNotFound
	case errors.Is(err, rest.ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, rest.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	var te *rest.Error
	if errors.As(err, &te) {
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}
