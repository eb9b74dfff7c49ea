package call

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// DeliveryID is the hex of the first 16 bytes of SHA-256 over provider,
// NUL, command, NUL, body, whether it hashes from the stack or streams.
func TestDeliveryIDBothWays(t *testing.T) {
	for _, n := range []int{0, 1, 300, deliveryBuf - 40, deliveryBuf - 39, deliveryBuf - 38, deliveryBuf, 5000} {
		body := bytes.Repeat([]byte{'x'}, n)
		cmd := "Call.CallbackAfterStartCall"
		sum := sha256.Sum256(append([]byte(Tencent+"\x00"+cmd+"\x00"), body...))
		if got, want := DeliveryID(Tencent, cmd, body), hex.EncodeToString(sum[:16]); got != want {
			t.Errorf("%d bytes: %s, want %s", n, got, want)
		}
	}
}
