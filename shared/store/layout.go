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
	DynamoIndexByUser = "byUser"    // GSI listing each participant's calls by time
	DynamoUserPK      = "gsi2pk"    // S, "USER#<user>", on the user items of a call's participants
	DynamoUserSK      = "gsi2sk"    // S, the call's ListKey
)

// DynamoIndex is one of the table's global secondary indexes; each
// projects every attribute.
type DynamoIndex struct{ Name, PK, SK string }

// DynamoIndexes are the table's global secondary indexes.
var DynamoIndexes = []DynamoIndex{
	{DynamoIndexByTime, DynamoIndexPK, DynamoIndexSK},
	{DynamoIndexByUser, DynamoUserPK, DynamoUserSK},
}
