package call

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

func TestDeliveryID(t *testing.T) {
	body := []byte(`{"CallbackCommand":"Call.CallbackAfterStartCall"}`)
	id := DeliveryID(Tencent, "Call.CallbackAfterStartCall", body)
	if len(id) != 32 {
		t.Errorf("id %q", id)
	}
	if DeliveryID(Tencent, "Call.CallbackAfterStartCall", slices.Clone(body)) != id {
		t.Error("same delivery, different id")
	}
	for _, other := range []string{
		DeliveryID(Yunxin, "Call.CallbackAfterStartCall", body),
		DeliveryID(Tencent, "cancel", body),
		DeliveryID(Tencent, "Call.CallbackAfterStartCall", append(slices.Clone(body), ' ')),
		// The separators keep fields from running into each other.
		DeliveryID(Tencent+"Call.", "CallbackAfterStartCall", body),
		DeliveryID(Tencent, "Call.CallbackAfterStartCall{", body[1:]),
	} {
		if other == id {
			t.Errorf("different deliveries share id %s", id)
		}
	}
}

func TestFactsUsers(t *testing.T) {
	f := Facts{Caller: "a", Callees: []string{"b", "", "a", "c", "b"}}
	if got := f.Users(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Users = %q", got)
	}
	if got := (Facts{Callees: []string{"x"}}).Users(); !slices.Equal(got, []string{"x"}) {
		t.Errorf("no caller: %q", got)
	}
}

// `callfn events` prints stored events with at least these names.
func TestEventJSONNames(t *testing.T) {
	b, err := json.Marshal(Event{Provider: Tencent, CallID: "c", Event: "call_started", EventTime: 1740464128807, Raw: `{"x":1}`})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"provider": "tencent", "callId": "c", "event": "call_started", "eventTime": float64(1740464128807), "raw": `{"x":1}`} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
}

// Users gives the same list whether the facts name a few users or many.
func TestUsersFewAndMany(t *testing.T) {
	for _, f := range []Facts{
		{}, {Caller: "a"}, {Callees: []string{"b", "", "b"}}, {Caller: "a", Callees: []string{"a", "b", "c", "b"}},
	} {
		if got, want := f.Users(), f.usersLarge(); !slices.Equal(got, want) {
			t.Errorf("%+v: Users() = %q, want %q", f, got, want)
		}
	}
	var many Facts
	many.Caller = "u5"
	for i := range 40 {
		many.Callees = append(many.Callees, fmt.Sprint("u", i%30))
	}
	if got := many.Users(); len(got) != 30 || got[0] != "u5" {
		t.Errorf("many: %d users, first %q", len(got), got[0])
	}
}
