// Package forward forwards every stored call event to the customer's own
// endpoints (CALLFN_FORWARD_URL) as Standard Webhooks messages, signed
// with CALLFN_FORWARD_SECRET by the standard-webhooks Go library
// (github.com/standard-webhooks/standard-webhooks/libraries), never by
// hand. With no endpoint configured nothing is owed and nothing is sent.
//
// # What is sent
//
// One POST per stored event and endpoint: the JSON Message
// {"type": "call.event", "timestamp": the event's time, "data": {"event":
// the stored call.Event, "summary": the call's call.Summary}}, with the
// headers webhook-id, webhook-timestamp and webhook-signature. The
// webhook-id (MessageID) is derived from the event's delivery id and the
// endpoint's canonical URL, so every attempt and every replay of one
// delivery carries the same id, and receivers can deduplicate on it.
//
// # The guarantee
//
// At least once, after durability, ids stable:
//
//   - A delivery (Delivery: one stored event owed to one endpoint) is a
//     row of the Outbox, which lives in the table. The Outbox contract
//     asks backends to write it in the same atomic write that stores the
//     event, so an event is never durable without its deliveries, nor its
//     deliveries without it.
//   - A delivery stays owed until the endpoint answers 2xx. Anything else
//     (another status, a redirect, which is never followed, no answer
//     within DefaultTimeout, 15 s, a refused connection) is a failed
//     attempt, retried on Svix's published schedule stretched by up to
//     Jitter (NextAttempt): MaxAttempts attempts over at least Span, more
//     than 24 hours. After the last one the delivery is Failed, and stays
//     so until Replay owes it again.
//   - The outcome of every attempt is recorded before the next is made. A
//     drainer leases what it takes (Outbox.Lease), so concurrent drainers
//     do not send the same delivery twice, and a crashed drainer's
//     deliveries are due again when their lease ends: a restart loses
//     nothing.
//   - Duplicates happen (an answer lost on the way back, a crash between
//     sending and recording, a replay), always under the same webhook-id.
//     Order is not guaranteed.
//   - Endpoints are drained side by side, each with its own bounded
//     concurrency (Options.PerEndpoint), so a slow or failing endpoint
//     delays no other.
//   - No secret in errors, logs or deliveries: failures are short texts
//     (Result.Err) without the URL's path or query, logs name endpoints
//     by scheme and host, an answer's body is read up to ReadLimit and
//     discarded.
//
// # The parts
//
// Message and MessageID make what is sent; NextAttempt is the schedule, a
// pure function; Sender makes one signed attempt over a shared
// http.Client; Outbox and Events are what forwarding needs from the
// table; Dispatcher owes events (Owe), delivers what is due (Drain) and
// owes them again on demand (Replay).
//
// # Driving it (pending integration)
//
// This package is the store-independent core. What does not exist yet,
// and is planned as follows once the table's backends are split:
//
//   - the Outbox and Events implementations in the table backends
//     (store/local for memory and bbolt, store/dynamo), with Owed's rows
//     written in PutEvent's own atomic write;
//   - on AWS, a function triggered by the table's DynamoDB stream (event
//     source mapping with bisect-on-error, a bounded retry age and an
//     on-failure destination) for first attempts, and a schedule for the
//     retries that drains what is due;
//   - on SCF, a timer trigger that calls Drain;
//   - under make run (callfn serve), a loop in process that drains after
//     each stored event and on a short ticker;
//   - callfn deliveries / callfn replay, POST /replay, and each event's
//     delivery state in GET /records/{callId}.
package forward
