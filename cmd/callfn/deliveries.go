package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/bolt"
)

// deliveries lists forwarding's deliveries, one for each stored event and
// endpoint: where it stands, what its last attempt got and when the next
// is due. It reads the table directly; when the embedded table is held by
// a running `callfn serve`, it asks that server instead.
//
//	callfn deliveries [--call ID] [--failed] [--json]
func deliveries(ctx context.Context, args []string) error {
	return deliveriesTo(ctx, args, os.Stdout)
}

// deliveriesHelp is `callfn help deliveries`.
const deliveriesHelp = "Lists forwarding's deliveries, one for each stored event and CALLFN_FORWARD_URL\n" +
	"endpoint: its call, webhook-id, endpoint (without its query), state (pending,\n" +
	"delivered, failed), attempts, the last attempt's status, time and error, and when\n" +
	"the next attempt is due. It reads the table directly, or asks a running `callfn\n" +
	"serve` (over loopback) while it holds the embedded table. --failed lists those\n" +
	"given up on (callfn replay sends them again); --json prints JSON lines."

// deliveryLine is one delivery as `callfn deliveries --json` prints it.
type deliveryLine struct {
	CallID     string    `json:"callId"`
	DeliveryID string    `json:"deliveryId"`
	OwedAt     time.Time `json:"owedAt"`
	records.DeliveryState
}

func deliveriesTo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("deliveries")
	callID := fs.String("call", "", "only this call's deliveries")
	failed := fs.Bool("failed", false, "only the deliveries given up on (replay them with callfn replay)")
	asJSON := fs.Bool("json", false, "one JSON object a line instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	var lines []deliveryLine
	collect := func(l deliveryLine) error { lines = append(lines, l); return nil }
	st, err := openForRead(ctx, cfg)
	switch {
	case errors.Is(err, bolt.ErrLocked):
		err = deliveriesFromServer(ctx, cfg.Addr, *callID, *failed, collect)
	case err == nil:
		err = writeDeliveries(ctx, st, *callID, *failed, collect)
		st.Close()
	}
	if err != nil {
		return err
	}
	if *asJSON {
		emit := jsonLines(stdout)
		for _, l := range lines {
			if err := emit(l); err != nil {
				return err
			}
		}
		return nil
	}
	printDeliveries(stdout, lines, cfg.Forwarding())
	return nil
}

// writeDeliveries emits callID's deliveries (every one when ""), only the
// failed ones when failed, ordered by call, time owed and endpoint.
func writeDeliveries(ctx context.Context, st store.Forwarding, callID string, failed bool, emit func(deliveryLine) error) error {
	var lines []deliveryLine
	err := st.Deliveries(ctx, callID, func(d *forward.Delivery) error {
		if !failed || d.State == forward.Failed {
			lines = append(lines, deliveryLine{CallID: d.CallID, DeliveryID: d.DeliveryID, OwedAt: d.OwedAt, DeliveryState: records.NewDeliveryState(d)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(lines, func(a, b deliveryLine) int {
		return cmp.Or(strings.Compare(a.CallID, b.CallID), a.OwedAt.Compare(b.OwedAt),
			strings.Compare(a.DeliveryID, b.DeliveryID), strings.Compare(a.Endpoint, b.Endpoint))
	})
	for _, l := range lines {
		if err := emit(l); err != nil {
			return err
		}
	}
	return nil
}

// jsonLines encodes each value on a line of its own.
func jsonLines(w io.Writer) func(deliveryLine) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return func(l deliveryLine) error { return enc.Encode(l) }
}

func deliveriesFromServer(ctx context.Context, addr, callID string, failed bool, emit func(deliveryLine) error) error {
	q := url.Values{"call": {callID}}
	if failed {
		q.Set("failed", "1")
	}
	resp, err := askServe(ctx, http.MethodGet, addr, deliveriesRoute+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var l deliveryLine
		if err := dec.Decode(&l); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("callfn serve on %s: %w", addr, err)
		}
		if err := emit(l); err != nil {
			return err
		}
	}
}

// printDeliveries writes the deliveries as a table, and a count of each
// state.
func printDeliveries(w io.Writer, lines []deliveryLine, forwarding bool) {
	if len(lines) == 0 {
		if !forwarding {
			fmt.Fprintln(w, "no deliveries (forwarding is off: CALLFN_FORWARD_URL names no endpoint)")
		} else {
			fmt.Fprintln(w, "no deliveries")
		}
		return
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CALL\tWEBHOOK-ID\tENDPOINT\tSTATE\tATTEMPTS\tSTATUS\tLAST ATTEMPT\tNEXT ATTEMPT\tERROR")
	count := map[forward.State]int{}
	for _, l := range lines {
		count[l.State]++
		status, next, errText := "-", "-", l.LastError
		if l.LastStatus != 0 {
			status = fmt.Sprint(l.LastStatus)
		}
		if l.State == forward.Pending {
			next = at(l.NextAt)
		}
		if errText == "" {
			errText = "-"
		}
		call := l.CallID
		if call == "" {
			call = "(none)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", call, l.WebhookID, l.Endpoint, l.State, l.Attempts, status, at(l.LastAt), next, errText)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d deliveries: %d delivered, %d pending, %d failed\n",
		len(lines), count[forward.Delivered], count[forward.Pending], count[forward.Failed])
}
