package testkit

import (
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.UnixMilli(1_700_000_000_000)
	c := NewClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now = %v, want %v", c.Now(), start)
	}
	c.Add(time.Minute)
	if got := c.Now().Sub(start); got != time.Minute {
		t.Fatalf("after Add: %v, want 1m", got)
	}
	c.Set(start)
	c.Run()
	time.Sleep(5 * time.Millisecond)
	if got := c.Now().Sub(start); got < 5*time.Millisecond || got > time.Minute {
		t.Fatalf("running clock advanced %v", got)
	}
}

func TestFixture(t *testing.T) {
	if got := string(Fixture(t, "hello.txt")); got != "hello\n" {
		t.Fatalf("Fixture = %q", got)
	}
}
