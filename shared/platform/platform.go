// Package platform is the seam between a callfn function and where it runs.
// A function is an http.Handler plus, optionally, a schedule handler and a
// handler of the table's changes; the adapters turn each platform's
// trigger events into those calls:
//
//   - shared/platform/awslambda: API Gateway HTTP API (payload 2.0) and REST
//     API (1.0) events, EventBridge schedules and DynamoDB stream records,
//     under the Lambda runtime;
//   - shared/platform/scf: Tencent SCF API gateway and timer events, under
//     scf-go-lib's net/rpc runtime;
//   - Serve in this package: plain HTTP, for local runs.
//
// Each function's main picks one with a build tag (lambda, scf, or neither),
// so an AWS binary does not link the SCF runtime and the reverse.
package platform

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Function is one deployable.
type Function struct {
	Name string
	// Routes are the HTTP routes the function serves. Deployment descriptors
	// must declare exactly these (their tests check it).
	Routes []Route
	// Schedule handles a scheduled trigger; nil when the function has none.
	Schedule func(ctx context.Context, t Tick) (any, error)
	// Changes handles a batch of the table's change records (on AWS, its
	// DynamoDB stream); nil when the function has none. An error fails the
	// whole batch, which the platform retries.
	Changes func(ctx context.Context, batch []Change) error

	// unavailable answers every request, GET /healthz included, when the
	// function cannot serve (see Unavailable).
	unavailable http.HandlerFunc
}

// Unavailable is a function that cannot serve because of err, typically
// the settings it is missing (config.ErrNotConfigured). It starts all the
// same, so that its runtime does not crash-loop and a caller gets a clear
// answer: every request, GET /healthz included, is answered 503 with err's
// message as {"error": ...}, and every schedule firing fails with it.
// err's message goes to callers: it must name settings, never hold a
// secret.
func Unavailable(name string, err error) Function {
	body, _ := json.Marshal(map[string]string{"error": err.Error()})
	h := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write(append(body, '\n'))
	}
	return Function{
		Name:   name,
		Routes: []Route{{Pattern: "/", Handler: h}},
		Schedule: func(context.Context, Tick) (any, error) {
			return nil, err
		},
		Changes: func(context.Context, []Change) error {
			return err
		},
		unavailable: h,
	}
}

// Change is one record of the table's change stream, whichever platform
// delivered it.
type Change struct {
	ID string // the record's id (for logs)
	Op string // "INSERT", "MODIFY" or "REMOVE"
	// Keys are the item's key attributes; New its string, number and
	// boolean attributes after the change (nil for REMOVE), as text.
	Keys, New map[string]string
}

// Tick is one firing of a schedule, whichever platform fired it.
type Tick struct {
	Name    string          // the schedule's (trigger's) name
	Time    time.Time       // the time it was scheduled for
	Payload json.RawMessage // what the schedule was configured to send; may be empty
}

// Route is one HTTP route: Pattern is "METHOD /path", with {name} path
// wildcards as net/http.ServeMux reads them.
type Route struct {
	Pattern string
	Handler http.HandlerFunc
}

// Handler serves the function's routes.
func (f Function) Handler() http.Handler { return Handler(f) }

type ctxKey struct{}

// WithRequestID returns ctx carrying the platform's request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// RequestID is the platform's id for the request in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}
