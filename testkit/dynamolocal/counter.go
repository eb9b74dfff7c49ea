package dynamolocal

import (
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Counter is an SDK client's HTTP client that records the operation of
// every request it sends (SDK retries included), for the tests and
// benchmarks that count the requests a piece of work takes.
type Counter struct {
	mu   sync.Mutex
	ops  []string
	next aws.HTTPClient
}

// Counting returns a client like db whose requests the returned Counter
// records.
func Counting(db *dynamodb.Client) (*dynamodb.Client, *Counter) {
	opts := db.Options()
	c := &Counter{next: opts.HTTPClient}
	opts.HTTPClient = c
	return dynamodb.New(opts), c
}

// Do records the request's operation (e.g. "Query") and sends it.
func (c *Counter) Do(r *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	c.mu.Lock()
	c.ops = append(c.ops, op)
	c.mu.Unlock()
	return c.next.Do(r)
}

// Take returns the operations sent since the last Take, in the order they
// were sent, and starts afresh.
func (c *Counter) Take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.ops
	c.ops = nil
	return ops
}

// TakeCounts is Take as the number of requests and the number by
// operation (nil when there were none).
func (c *Counter) TakeCounts() (int, map[string]int) {
	ops := c.Take()
	var by map[string]int
	for _, op := range ops {
		if by == nil {
			by = map[string]int{}
		}
		by[op]++
	}
	return len(ops), by
}
