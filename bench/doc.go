// Package bench holds callfn's end-to-end benchmarks (`make bench`). Each
// reports its figures as ratios to a floor measured in the same run, never
// as absolute thresholds, or as counts (requests, bytes); servers run as
// their own processes (this test binary re-executed in a server role) so
// that their CPU time and memory are their own. A floor and its subject
// run in alternating rounds, and a ratio is reported as the median of the
// rounds' with their spread (min..max), so one noisy moment on a shared
// machine does not decide it (testkit/benchkit). Costs are CPU time, not
// wall time.
//
//   - BenchmarkIngestHTTP: webhook ingestion over HTTP with the embedded
//     table against a bare handler, every acknowledged event checked in the
//     file after each round's kill -9.
//   - BenchmarkHandlerCost: the webhook handler's CPU time per callback on
//     the memory table against decoding the body with encoding/json.
//   - BenchmarkFileSize: the embedded file's bytes per stored event, and the
//     server's peak memory, after many callbacks.
//   - BenchmarkDynamoDBRequests (and TestDynamoDBRequestsPerCallback, a
//     guard on today's counts), BenchmarkDynamoDBGroupCall,
//     BenchmarkDynamoDBSameCall: DynamoDB requests per callback counted at
//     the SDK client, on DynamoDB Local (skipped, with a message, without
//     Java); SameCall's time for many events of one call at once, in one
//     process and over many, against as many plain transactions at once.
//
// Sizes, from the environment:
//
//	CALLFN_BENCH_ROUNDS            rounds of IngestHTTP and HandlerCost (7)
//	CALLFN_BENCH_ROUND_CALLBACKS   callbacks per IngestHTTP round and server (10000)
//	CALLFN_BENCH_FILE_CALLBACKS    callbacks FileSize stores (100000)
//	CALLFN_BENCH_GROUP_USERS       users the group call names (10000)
//	CALLFN_BENCH_SAME_CALL         members of one call changing at once (200)
//	CALLFN_BENCH_SAME_CALL_PROCS   stores (processes) SameCall spreads them over (one each)
//	CALLFN_BENCH_INGEST_STORE      bolt, or memory: IngestHTTP without the embedded table (bolt)
//	CALLFN_BENCH_CPUPROFILE        PREFIX: each server process writes its CPU
//	                               profile to PREFIX-<name>.pprof (bare-0,
//	                               webhook-0, ... by round; filesize)
package bench
