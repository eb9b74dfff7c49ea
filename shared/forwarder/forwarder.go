// Package forwarder is the forward function: it delivers what the table
// owes to the endpoints of CALLFN_FORWARD_URL (shared/forward: every
// stored event, signed as a Standard Webhooks message, at least once), on
// whatever the platform fires it with:
//
//   - the table's changes (on AWS, the DynamoDB stream, filtered in
//     template.yaml to delivery rows just owed or replayed): it drains the
//     endpoints those rows are owed to, so a first attempt is made within
//     seconds of the event being stored;
//   - a schedule (EventBridge Scheduler every minute on AWS, a timer every
//     minute on SCF): it drains every endpoint, which makes the retries as
//     they come due, and anything a failed stream batch left owed.
//
// The table keeps what is owed (store.Forwarding), so neither trigger is
// trusted to deliver: a batch that fails, or an invocation that is cut
// off, leaves its deliveries owed, and the next run finds them. Locally,
// `callfn serve` drives the same Dispatcher in process (forward.Loop).
package forwarder

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
)

// Name is the function's name (functions/forward).
const Name = "forward"

// DefaultMargin is how long before an invocation's deadline a drain stops:
// time enough to record the attempts cut short and give their leases
// back.
const DefaultMargin = 15 * time.Second

// Table is what the forward function uses of the table.
type Table = store.Forwarding

// Options adjust the function; zero values take the defaults.
type Options struct {
	Now    func() time.Time // the clock drains run at (time.Now)
	Client *http.Client     // sends the attempts (forward.NewClient())
	Logger *slog.Logger     // slog.Default()
	Margin time.Duration    // DefaultMargin
}

// Stats is what a run did, as the function answers it.
type Stats struct {
	Attempts  int `json:"attempts"`
	Delivered int `json:"delivered"`
	Retrying  int `json:"retrying"`
	Failed    int `json:"failed"`
}

type function struct {
	d      *forward.Dispatcher
	now    func() time.Time
	log    *slog.Logger
	margin time.Duration
}

// New builds the forward function over st. With forwarding off (no
// CALLFN_FORWARD_URL) it runs and does nothing.
func New(cfg config.Config, st Table, opts Options) (platform.Function, error) {
	f := &function{now: opts.Now, log: opts.Logger, margin: opts.Margin}
	if f.now == nil {
		f.now = time.Now
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	if f.margin <= 0 {
		f.margin = DefaultMargin
	}
	d, err := forward.New(cfg, st, st, forward.Options{Client: opts.Client, Logger: f.log})
	if err != nil {
		return platform.Function{Name: Name}, err
	}
	f.d = d
	return platform.Function{Name: Name, Schedule: f.scheduled, Changes: f.changes}, nil
}

// scheduled drains every endpoint.
func (f *function) scheduled(ctx context.Context, t platform.Tick) (any, error) {
	return f.drain(ctx, nil)
}

// changes drains the endpoints that the batch's delivery rows are owed to.
// Records of anything else (the stream's filter should keep them away)
// are ignored.
func (f *function) changes(ctx context.Context, batch []platform.Change) error {
	var eps []string
	for _, c := range batch {
		if strings.HasPrefix(c.New[store.DynamoSK], store.DynamoOutboxSK) && c.New["state"] == string(forward.Pending) && c.New["endpoint"] != "" {
			eps = append(eps, c.New["endpoint"])
		}
	}
	if len(eps) == 0 {
		return nil
	}
	_, err := f.drain(ctx, eps)
	return err
}

// drain drains eps (every endpoint when nil) until nothing is due, or
// until the margin before ctx's deadline. A drain cut off by that margin
// is not a failure: what it left is owed, for the next run.
func (f *function) drain(ctx context.Context, eps []string) (Stats, error) {
	if !f.d.Enabled() {
		return Stats{}, nil
	}
	dctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		dctx, cancel = context.WithDeadline(ctx, dl.Add(-f.margin))
		defer cancel()
	}
	var st forward.Stats
	var err error
	if eps == nil {
		st, err = f.d.Drain(dctx, f.now())
	} else {
		st, err = f.d.DrainEndpoints(dctx, f.now(), eps)
	}
	out := Stats{Attempts: st.Attempts, Delivered: st.Delivered, Retrying: st.Retrying, Failed: st.Failed}
	if err != nil && dctx.Err() != nil && ctx.Err() == nil {
		f.log.Warn("forward: the drain ran out of time; what is left is owed to the next run", "error", err)
		return out, nil
	}
	return out, err
}
