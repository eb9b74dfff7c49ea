package store

// The DynamoDB table's layout. template.yaml declares the same names (its
// tests check), and dynamo.CreateTable creates them for local use.
const (
	DynamoPK          = "pk"        // S
	DynamoSK          = "sk"        // S
	DynamoTTL         = "expiresAt" // N, Unix seconds; the table's TTL attribute
	DynamoIndexByTime = "byTime"    // GSI listing call summaries by time
	DynamoIndexPK     = "gsi1pk"    // S, "CALLS#YYYY-MM" (UTC month of SortTime)
	DynamoIndexSK     = "gsi1sk"    // S, "%013d#callId" (SortTime ms, call id): ListKey
)
