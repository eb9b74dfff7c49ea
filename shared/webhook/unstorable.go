package webhook

import (
	"errors"
	"net/http"

	"github.com/callfn/callfn/shared/store"
)

// storeFailure is the reply to a callback the table did not store. One the
// table can never hold (store.ErrUnstorable, the same on every backend)
// gets a final 4xx — 413 when it is too large even compressed, 422
// otherwise — so that the provider stops sending it; the log keeps its
// delivery id. Anything else is transient and gets a 500: retry.
func storeFailure(err error) (int, error) {
	switch {
	case errors.Is(err, store.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, errors.New("too large for the table even compressed: not stored; do not retry")
	case errors.Is(err, store.ErrUnstorable):
		return http.StatusUnprocessableEntity, errors.New("the table cannot hold this callback: not stored; do not retry")
	}
	return http.StatusInternalServerError, errors.New("not stored; retry")
}
