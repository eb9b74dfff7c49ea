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
	DynamoUserPK      = "gsi3pk"    // S, "USER#<user>", on the user items of a call's participants
	DynamoUserSK      = "gsi3sk"    // S, the call's ListKey
)

// DynamoIndex is one of the table's global secondary indexes that project
// every attribute (the due index, below, projects a few).
type DynamoIndex struct{ Name, PK, SK string }

// DynamoIndexes are the table's global secondary indexes that project
// every attribute: byTime and byUser.
var DynamoIndexes = []DynamoIndex{
	{DynamoIndexByTime, DynamoIndexPK, DynamoIndexSK},
	{DynamoIndexByUser, DynamoUserPK, DynamoUserSK},
}

// The outbox's part of the layout (forwarding, store.Forwarding): delivery
// rows sit in their event's partition under sort keys DynamoOutboxSK +
// deliveryId + "#" + endpoint; the Pending ones carry the due index's keys,
// and the table's stream (DynamoStreamView) starts the forward function
// for those marked DynamoFresh.
const (
	DynamoOutboxSK   = "OUT#"      // sort key prefix of a delivery row
	DynamoIndexDue   = "due"       // GSI listing Pending deliveries by endpoint and due time
	DynamoDuePK      = "gsi2pk"    // S, "DUE#" + endpoint
	DynamoDueSK      = "gsi2sk"    // S, NextAt in Unix ns, 20 digits
	DynamoFresh      = "fresh"     // S, "1" on a row owed or replayed and not yet leased
	DynamoStreamView = "NEW_IMAGE" // the stream's view type: the filter reads the new item
)

// DynamoDueProjected are the attributes the due index projects beyond the
// keys: Lease skips expired rows by them.
var DynamoDueProjected = []string{DynamoTTL}
