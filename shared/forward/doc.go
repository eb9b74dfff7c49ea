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
// # Driving it
//
//   - The table (store.Forwarding, in store/local for memory and bbolt and
//     in store/dynamo) implements Outbox and Events; PutEvent writes
//     Owed's rows in the event's own atomic write whenever the store is
//     opened with endpoints (store.Options.ForwardTo), so every stored
//     event is owed, whoever stored it.
//   - Under make run (callfn serve), a Loop drains in process: woken after
//     each stored event, ticking for the retries.
//   - On AWS, functions/forward (shared/forwarder) is fired by the
//     table's DynamoDB stream, filtered to rows just owed or replayed,
//     and drains the endpoints they name (DrainEndpoints); an EventBridge
//     schedule every minute drains every endpoint for the retries. On
//     SCF, a timer every minute does both.
//   - callfn deliveries lists the rows; POST /replay and callfn replay owe
//     events again (Replay); GET /records/{callId} shows each event's
//     deliveries.
package forward
