// Package testkit and the packages under it are test support, shared by
// callfn's tests and by nothing else: no function, command or shared
// package imports them (shared/platform/run's TestBinaries checks each
// function's dependencies with go list -deps, for Lambda and for SCF).
// What lives here:
//
//   - Clock, a settable clock to inject where product code takes a Now;
//   - Fixture, a file from a test's testdata folder;
//   - Buffer, a buffer a process or a logger writes to while a test reads;
//   - Do (one HTTP request and its whole reply), JSON (a value's JSON or a
//     failed test), Invoke and HasHeaders (a platform adapter run on a
//     sample event, and its reply's headers), Root (the module's folder);
//   - dynamolocal, AWS's DynamoDB Local on loopback for DynamoDB tests;
//   - storetest, the behavioural suite every table backend passes;
//   - benchkit, alternating floor/subject rounds reported as a median ratio
//     with its spread, and CPU time and memory of processes, for benchmarks;
//   - receiver, a Standard Webhooks endpoint on loopback that verifies
//     every signature and fails, hangs or goes away on demand;
//   - deploy, checks of template.yaml, serverless.yml and events/ against
//     the functions.
package testkit
