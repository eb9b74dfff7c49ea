package upstream_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/callfn/callfn/shared/api/upstream"
	"github.com/callfn/callfn/shared/tencent/rest"
)

// Each kind of Tencent failure, as a *rest.Error carries it, has one status.
// (shared/tencent/rest's tests provoke each kind for real and check the
// status of the error the client returns.)
func TestStatusOfEachKind(t *testing.T) {
	for kind, want := range map[error]int{
		rest.ErrBadRequest:     400,
		rest.ErrCallNotFound:   404,
		rest.ErrRecordNotFound: 404,
		rest.ErrRateLimited:    429,
		rest.ErrUnavailable:    504,
		rest.ErrSigExpired:     502,
		rest.ErrSigInvalid:     502,
		rest.ErrSigOtherApp:    502,
		rest.ErrWrongRegion:    502,
		rest.ErrNotAdmin:       502,
		rest.ErrNotConfigured:  502,
		rest.ErrDenied:         502,
		rest.ErrCloudAuth:      502,
		rest.ErrFailed:         502,
	} {
		err := fmt.Errorf("wrapped: %w", &rest.Error{Kind: kind, API: "v4", Command: "x"})
		if got := upstream.Status(err); got != want {
			t.Errorf("%v: %d, want %d", kind, got, want)
		}
	}
}

func TestHTTPStatusOfOtherErrors(t *testing.T) {
	if s := upstream.Status(nil); s != 200 {
		t.Errorf("nil: %d", s)
	}
	if s := upstream.Status(context.DeadlineExceeded); s != 504 {
		t.Errorf("deadline: %d", s)
	}
	if s := upstream.Status(errors.New("boom")); s != 500 {
		t.Errorf("other: %d", s)
	}
	if s := upstream.Status(&rest.ParamError{Field: "Timeout", Msg: "x"}); s != 400 {
		t.Errorf("ParamError: %d", s)
	}
}
