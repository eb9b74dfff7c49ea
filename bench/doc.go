// Package bench holds callfn's end-to-end benchmarks (`make bench`). Each
// reports its figures as ratios to a floor measured in the same run, never
// as absolute thresholds, and servers run as their own processes (this test
// binary re-executed in a server role) so that their memory is their own.
package bench
