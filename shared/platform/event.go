package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// DecodeEvent decodes an adapter's trigger event as an E; what names the
// event in the error, which matches ErrUnknownEvent.
func DecodeEvent[E any](event json.RawMessage, what string) (E, error) {
	var e E
	if err := json.Unmarshal(event, &e); err != nil {
		return e, fmt.Errorf("%w: %s: %v", ErrUnknownEvent, what, err)
	}
	return e, nil
}

// ServeEvent serves an API gateway's HTTP event with h, in memory: it
// decodes event as an E (DecodeEvent), reads it as an HTTPEvent with
// toEvent (given the platform's invocation id), and answers what respond
// makes of the response.
func ServeEvent[E, R any](ctx context.Context, h http.Handler, event json.RawMessage, invocationID, what string,
	toEvent func(E, string) HTTPEvent, respond func(HTTPResponse) R) (any, error) {
	e, err := DecodeEvent[E](event, what)
	if err != nil {
		return nil, err
	}
	return respond(ServeHTTPEvent(ctx, h, toEvent(e, invocationID))), nil
}
