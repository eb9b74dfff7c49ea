package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/store/bolt"
)

// replay delivers stored events again to the forwarding endpoints, under
// the webhook-ids they were first sent with (as POST /replay does): a
// call's events, or those of the last while, with a progress bar on
// stderr for a range.
//
//	callfn replay --call ID | --since 1h [--url URL]
//
// While `callfn serve` holds the embedded table it asks that server, which
// delivers them at once. Otherwise it queues them in the table and, for a
// local table, delivers them itself (what fails is retried by the next
// `callfn serve`); on DynamoDB the forward function delivers them.
func replay(ctx context.Context, args []string) error {
	return replayTo(ctx, args, os.Stdout, os.Stderr)
}

// replayHelp is `callfn help replay`.
const replayHelp = "Delivers stored events again to the forwarding endpoints (CALLFN_FORWARD_URL),\n" +
	"under the webhook-ids they were first sent with, whatever their deliveries'\n" +
	"state: a call's events (--call), or those of the last while (--since 1h, 7d;\n" +
	"by the events' own times, with a progress bar on stderr), to every endpoint or\n" +
	"to one (--url). While `callfn serve` holds the embedded table it asks that\n" +
	"server, which delivers them at once; otherwise it queues them and, on a local\n" +
	"table, delivers them itself; on DynamoDB the forward function delivers them."

func replayTo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay")
	callID := fs.String("call", "", "replay this call's events")
	since := fs.String("since", "", "replay the events of this long ago until now (e.g. 1h, 36h, 7d)")
	url := fs.String("url", "", "to this endpoint only (one of CALLFN_FORWARD_URL's); default every endpoint")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if (*callID == "") == (*since == "") {
		return errors.New("give --call ID or --since DURATION (one of them)")
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	if !cfg.Forwarding() {
		return errors.New("forwarding is off: set CALLFN_FORWARD_URL (and CALLFN_FORWARD_SECRET) to the endpoints to deliver to")
	}
	req := records.ReplayRequest{CallID: *callID, URL: *url}
	if *since != "" {
		d, err := records.ParseSince(*since)
		if err != nil {
			return err
		}
		req.From = records.TimeArg(time.Now().Add(-d).UnixMilli())
	}
	var bar *progressBar // a range's only
	if req.CallID == "" {
		bar = &progressBar{w: stderr, start: time.Now()}
	}
	st, err := openTable(ctx, cfg)
	if errors.Is(err, bolt.ErrLocked) {
		rep, err := replayViaServer(ctx, cfg.Addr, req, bar)
		bar.finish()
		if err != nil {
			return err
		}
		printReplay(stdout, rep)
		fmt.Fprintln(stdout, "  callfn serve is delivering them")
		return nil
	}
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := records.NewService(cfg, st, records.Options{})
	if err != nil {
		return err
	}
	rep, err := svc.Replay(ctx, req, bar.replay)
	bar.finish()
	if err != nil {
		return replayError(err)
	}
	printReplay(stdout, rep)
	if strings.HasPrefix(cfg.Store, "dynamodb:") {
		fmt.Fprintln(stdout, "  the forward function delivers them (at once on AWS, at its next minute on SCF)")
		return nil
	}
	// No server holds the local table: deliver what is due now.
	d, err := forward.New(cfg, st, st, forward.Options{})
	if err != nil {
		return err
	}
	stats, err := d.Drain(ctx, time.Now())
	fmt.Fprintf(stdout, "  delivered %d now; %d to retry (the next callfn serve retries them), %d given up\n",
		stats.Delivered, stats.Retrying, stats.Failed)
	return err
}

// replayError words the records service's errors for the command line.
func replayError(err error) error {
	if errors.Is(err, forward.ErrUnknownEndpoint) {
		return errors.New("--url is not one of CALLFN_FORWARD_URL's endpoints")
	}
	return err
}

func printReplay(w io.Writer, rep records.ReplayReport) {
	fmt.Fprintf(w, "replayed %d events: %d deliveries queued to %s\n", rep.Events, rep.Queued, strings.Join(rep.Endpoints, ", "))
}

// replayViaServer asks the `callfn serve` on addr to replay, following its
// progress.
func replayViaServer(ctx context.Context, addr string, req records.ReplayRequest, bar *progressBar) (records.ReplayReport, error) {
	var rep records.ReplayReport
	body, err := json.Marshal(req)
	if err != nil {
		return rep, err
	}
	resp, err := askServe(ctx, http.MethodPost, addr, replayRoute, body)
	if err != nil {
		return rep, err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var line struct {
			Progress *records.ReplayProgress `json:"progress"`
			Report   *records.ReplayReport   `json:"report"`
			Error    string                  `json:"error"`
		}
		if err := dec.Decode(&line); err != nil {
			return rep, fmt.Errorf("callfn serve on %s: the replay's answer ended early: %w", addr, err)
		}
		switch {
		case line.Progress != nil:
			bar.replay(*line.Progress)
		case line.Error != "":
			if strings.Contains(line.Error, forward.ErrUnknownEndpoint.Error()) {
				return rep, replayError(forward.ErrUnknownEndpoint)
			}
			return rep, fmt.Errorf("callfn serve on %s: %s", addr, line.Error)
		case line.Report != nil:
			return *line.Report, nil
		}
	}
}
