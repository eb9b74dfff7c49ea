package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
)

// Defaults of Options.
const (
	DefaultPerEndpoint = 4
	DefaultBatch       = 32
	DefaultLease       = 5 * time.Minute
	// loadRetry is how long a delivery waits when its event could not be
	// read (the table, not the endpoint, failed); no attempt is counted.
	loadRetry = 30 * time.Second
	// recordTimeout bounds writing an attempt's outcome, which is done
	// even when the drain's context has ended.
	recordTimeout = 10 * time.Second
)

// Options tune a Dispatcher (and a Sender); zero values take defaults.
type Options struct {
	// Client sends every attempt; NewClient() when nil. Build it once and
	// share it. Redirects are never followed, whatever its CheckRedirect.
	Client *http.Client
	// Timeout bounds one attempt; DefaultTimeout (15 s) when 0.
	Timeout time.Duration
	// PerEndpoint bounds the attempts in flight to one endpoint;
	// endpoints are drained independently of each other.
	PerEndpoint int
	// Batch is how many deliveries to one endpoint are leased at a time.
	Batch int
	// Lease is how long leased deliveries are kept from other drainers;
	// it must cover a batch: Lease >= Timeout * ceil(Batch/PerEndpoint).
	Lease time.Duration
	// Now is the wall clock that signs (webhook-timestamp, which receivers
	// compare with theirs); time.Now when nil.
	Now func() time.Time
	// Rand jitters the retry schedule; math/rand/v2's global source when
	// nil.
	Rand *rand.Rand
	// Logger gets failed attempts (Warn) and deliveries given up (Error);
	// slog.Default() when nil. Endpoints are logged by scheme and host.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Client == nil {
		o.Client = NewClient()
	} else {
		c := *o.Client
		c.CheckRedirect = noRedirects
		o.Client = &c
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.PerEndpoint <= 0 {
		o.PerEndpoint = DefaultPerEndpoint
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

func checkSecret(secret string) error {
	if err := config.CheckForwardSecret(secret); err != nil {
		return fmt.Errorf("forward: %w", err)
	}
	return nil
}

// Dispatcher delivers what the Outbox owes to the configured endpoints.
// It is safe for concurrent use, and several Dispatchers (in several
// processes) may drain one Outbox: leases keep them off each other's
// deliveries.
type Dispatcher struct {
	endpoints []string
	sender    *Sender
	outbox    Outbox
	events    Events
	opts      Options
	randMu    sync.Mutex
}

// ErrUnknownEndpoint is returned by Replay for an endpoint that is not
// configured.
var ErrUnknownEndpoint = errors.New("forward: not a configured endpoint")

// New is the Dispatcher for cfg's endpoints (cfg.ForwardURLs) and secret.
// With no endpoints forwarding is off: the Dispatcher owes nothing and
// drains nothing, and ob and evs may be nil.
func New(cfg config.Config, ob Outbox, evs Events, opts Options) (*Dispatcher, error) {
	opts = opts.withDefaults()
	d := &Dispatcher{outbox: ob, events: evs, opts: opts}
	if !cfg.Forwarding() {
		return d, nil
	}
	for _, raw := range cfg.ForwardURLs {
		ep, err := config.ParseForwardURL(raw)
		if err != nil {
			return nil, fmt.Errorf("forward: endpoint: %w", err)
		}
		if !slices.Contains(d.endpoints, ep) {
			d.endpoints = append(d.endpoints, ep)
		}
	}
	if ob == nil || evs == nil {
		return nil, errors.New("forward: forwarding needs an outbox and the events")
	}
	if need := opts.Timeout * time.Duration((opts.Batch+opts.PerEndpoint-1)/opts.PerEndpoint); opts.Lease < need {
		return nil, fmt.Errorf("forward: a lease of %s does not cover a batch (%s)", opts.Lease, need)
	}
	s, err := NewSender(cfg.ForwardSecret, opts)
	if err != nil {
		return nil, err
	}
	d.sender = s
	return d, nil
}

// Enabled reports whether any endpoint is configured.
func (d *Dispatcher) Enabled() bool { return len(d.endpoints) > 0 }

// Endpoints are the configured endpoints, canonical.
func (d *Dispatcher) Endpoints() []string { return slices.Clone(d.endpoints) }

// Owe records a newly stored event as owed to every endpoint, due now.
// Call it only once the event is durable. A separate Owe after the event's
// write leaves a moment in which a crash loses the deliveries: a backend
// that can should write Owed's rows in the event's own write instead.
// Forwarding off, it does nothing.
func (d *Dispatcher) Owe(ctx context.Context, ev *call.Event, now time.Time) error {
	if !d.Enabled() {
		return nil
	}
	return d.outbox.Owe(ctx, Owed(ev, d.endpoints, now))
}

// Replay owes a stored event again, due now, to endpoint ("" for every
// endpoint), whatever its deliveries' state: the attempts start over
// under the same webhook-id. An attempt of the same delivery that is in
// flight as Replay runs may record its outcome over the replay's row.
func (d *Dispatcher) Replay(ctx context.Context, ev *call.Event, endpoint string, now time.Time) error {
	eps := d.endpoints
	if endpoint != "" {
		ep, err := config.ParseForwardURL(endpoint)
		if err != nil || !slices.Contains(d.endpoints, ep) {
			return ErrUnknownEndpoint
		}
		eps = []string{ep}
	}
	for _, dl := range Owed(ev, eps, now) {
		if err := d.outbox.Record(ctx, dl); err != nil {
			return fmt.Errorf("forward: replay %s: %w", dl.ID(), err)
		}
	}
	return nil
}

// Stats count what a Drain did.
type Stats struct {
	Attempts  int // attempts made
	Delivered int // deliveries an endpoint accepted
	Retrying  int // failed attempts rescheduled
	Failed    int // deliveries given up (MaxAttempts, or the event gone)
}

func (s *Stats) add(o Stats) {
	s.Attempts += o.Attempts
	s.Delivered += o.Delivered
	s.Retrying += o.Retrying
	s.Failed += o.Failed
}

// tally adds up the Stats, and gathers the errors, of attempts made side
// by side.
type tally struct {
	mu   sync.Mutex
	st   Stats
	errs []error
}

func (t *tally) add(st Stats, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.add(st)
	if err != nil {
		t.errs = append(t.errs, err)
	}
}

// result is the sum and the errors, joined; once the attempts are over.
func (t *tally) result() (Stats, error) { return t.st, errors.Join(t.errs...) }

// Drain delivers every delivery due at now, and returns once each
// endpoint has nothing left due or ctx ends. Endpoints are drained side by
// side, each with at most Options.PerEndpoint attempts in flight, so a
// slow or failing endpoint delays no other. After every attempt the
// outcome is recorded: Delivered on a 2xx, else Pending at the next time
// of the schedule (NextAttempt, counted from now plus the time the drain
// has taken) or Failed after the last attempt. Deliveries leased but not
// attempted when ctx ends are given back; an attempt cut short by ctx is
// not counted. Deliveries owed to an endpoint that is no longer
// configured are left alone until it is configured again. The error joins
// the Outbox's errors and ctx's.
func (d *Dispatcher) Drain(ctx context.Context, now time.Time) (Stats, error) {
	return d.drain(ctx, nil, now, d.endpoints)
}

// DrainEndpoints is Drain for those of endpoints that are configured (the
// others are left alone): a trigger that names the endpoints it is about
// (a stream's records) drains those and waits on no other.
func (d *Dispatcher) DrainEndpoints(ctx context.Context, now time.Time, endpoints []string) (Stats, error) {
	var eps []string
	for _, ep := range endpoints {
		if slices.Contains(d.endpoints, ep) && !slices.Contains(eps, ep) {
			eps = append(eps, ep)
		}
	}
	return d.drain(ctx, nil, now, eps)
}

// drain drains eps; once stop is closed it leases nothing more, and
// returns when the attempts in flight have ended (ctx bounds them).
func (d *Dispatcher) drain(ctx context.Context, stop <-chan struct{}, now time.Time, eps []string) (Stats, error) {
	if !d.Enabled() {
		return Stats{}, nil
	}
	start := time.Now()
	at := func() time.Time { return now.Add(time.Since(start)) }
	var (
		wg    sync.WaitGroup
		total tally
	)
	for _, ep := range eps {
		wg.Go(func() { total.add(d.drainEndpoint(ctx, stop, ep, now, at)) })
	}
	wg.Wait()
	total.add(Stats{}, ctx.Err())
	return total.result()
}

func (d *Dispatcher) drainEndpoint(ctx context.Context, stop <-chan struct{}, ep string, now time.Time, at func() time.Time) (Stats, error) {
	var (
		total tally
		taken = map[string]bool{}
	)
	for ctx.Err() == nil && !closed(stop) {
		batch, err := d.outbox.Lease(ctx, ep, now, now.Add(d.opts.Lease), d.opts.Batch)
		if err != nil {
			return total.st, fmt.Errorf("forward: lease deliveries to %s: %w", origin(ep), err)
		}
		if len(batch) == 0 {
			break
		}
		for _, dl := range batch {
			// A row leased twice in one drain means the Outbox does not
			// hold leases; stop rather than loop.
			if taken[dl.ID()] {
				return total.st, fmt.Errorf("forward: outbox leased %s twice in one drain", dl.ID())
			}
			taken[dl.ID()] = true
		}
		sem := make(chan struct{}, d.opts.PerEndpoint)
		var wg sync.WaitGroup
		for _, dl := range batch {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				// Not attempted: give the lease back.
				total.add(Stats{}, d.record(ctx, dl))
				continue
			}
			wg.Go(func() {
				defer func() { <-sem }()
				total.add(d.deliver(ctx, dl, at))
			})
		}
		wg.Wait()
	}
	return total.result()
}

// deliver makes one attempt at dl and records its outcome.
func (d *Dispatcher) deliver(ctx context.Context, dl Delivery, at func() time.Time) (Stats, error) {
	log := d.opts.Logger.With("endpoint", origin(dl.Endpoint), "webhookId", dl.ID(), "callId", dl.CallID)
	ev, sum, err := d.events.Event(ctx, dl.CallID, dl.DeliveryID)
	var body []byte
	if err == nil {
		body, err = NewMessage(ev, sum).Body()
	}
	switch {
	case errors.Is(err, ErrEventGone):
		dl.State, dl.NextAt, dl.LastAt, dl.LastStatus, dl.LastError = Failed, time.Time{}, at(), 0, "event no longer stored"
		log.Error("forward: delivery given up: its event is no longer stored")
		return Stats{Failed: 1}, d.record(ctx, dl)
	case err != nil && ctx.Err() != nil:
		return Stats{}, d.record(ctx, dl) // the lease given back
	case err != nil:
		// The table failed, not the endpoint: try again soon, uncounted.
		log.Warn("forward: reading the event failed", "error", err)
		dl.NextAt = at().Add(loadRetry)
		return Stats{}, d.record(ctx, dl)
	}
	res := d.sender.Send(ctx, dl.Endpoint, dl.ID(), body)
	if !res.OK() && ctx.Err() != nil {
		return Stats{}, d.record(ctx, dl) // cut short by the drain's end: not an attempt
	}
	t := at()
	dl.Attempts++
	dl.LastAt, dl.LastStatus, dl.LastError = t, res.Status, res.Err
	st := Stats{Attempts: 1}
	if res.OK() {
		dl.State, dl.NextAt = Delivered, time.Time{}
		st.Delivered = 1
	} else if next, again := d.next(dl.Attempts, t); again {
		dl.NextAt = next
		st.Retrying = 1
		log.Warn("forward: attempt failed", "attempt", dl.Attempts, "error", res.Err, "nextAt", next)
	} else {
		dl.State, dl.NextAt = Failed, time.Time{}
		st.Failed = 1
		log.Error("forward: delivery given up", "attempts", dl.Attempts, "error", res.Err)
	}
	return st, d.record(ctx, dl)
}

func (d *Dispatcher) next(attempts int, last time.Time) (time.Time, bool) {
	d.randMu.Lock()
	defer d.randMu.Unlock()
	return NextAttempt(attempts, last, d.opts.Rand)
}

// record writes dl even when ctx has ended: an attempt made must be
// recorded, and a lease given back.
func (d *Dispatcher) record(ctx context.Context, dl Delivery) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := d.outbox.Record(ctx, dl); err != nil {
		return fmt.Errorf("forward: record %s to %s: %w", dl.ID(), origin(dl.Endpoint), err)
	}
	return nil
}

// closed reports whether stop (nil: never) is closed.
func closed(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// origin names an endpoint by scheme and host, for logs and errors.
func origin(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "?"
	}
	return u.Scheme + "://" + u.Host
}
