package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/bolt"
	"github.com/callfn/callfn/shared/store/open"
)

const eventsRoute = "/_callfn/events"

// events prints stored events as JSON lines. It reads the table directly;
// when the embedded table is held by a running `callfn serve`, it asks that
// server instead.
func events(ctx context.Context, args []string) error {
	fs := newFlags("events")
	callID := fs.String("call", "", "only this call's events")
	cfg, err := parseCommand(fs, args)
	if err != nil {
		return err
	}
	st, err := openForRead(ctx, cfg)
	if errors.Is(err, bolt.ErrLocked) {
		return eventsFromServer(ctx, cfg.Addr, *callID, os.Stdout)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	return writeEvents(ctx, st, *callID, os.Stdout)
}

// openForRead opens the configured table, which must exist already.
func openForRead(ctx context.Context, cfg config.Config) (store.Store, error) {
	if path, ok := strings.CutPrefix(cfg.Store, "bolt:"); ok {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no embedded table at %s yet: %w", path, err)
		}
	}
	return openTable(ctx, cfg)
}

// openTable opens the configured table for a command run beside, or
// instead of, `callfn serve`: an embedded table held by a running server is
// reported as bolt.ErrLocked at once rather than waited on.
func openTable(ctx context.Context, cfg config.Config) (store.Store, error) {
	opts := store.Options{Retention: cfg.Retention(), ForwardTo: cfg.ForwardURLs}
	if path, ok := strings.CutPrefix(cfg.Store, "bolt:"); ok && path != "" {
		return bolt.OpenWait(path, opts, 300*time.Millisecond)
	}
	return open.Open(ctx, cfg.Store, opts)
}

// writeEvents writes callID's events (every event when "") as JSON lines.
func writeEvents(ctx context.Context, st store.Store, callID string, w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if callID != "" {
		_, evs, err := st.GetCall(ctx, callID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		for i := range evs {
			if err := enc.Encode(&evs[i]); err != nil {
				return err
			}
		}
		return err
	}
	return st.ListEvents(ctx, "", func(ev *call.Event) error { return enc.Encode(ev) })
}

func eventsHandler(st store.Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		if err := writeEvents(r.Context(), st, r.URL.Query().Get("call"), w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}
}

func eventsFromServer(ctx context.Context, addr, callID string, w io.Writer) error {
	// The route answers loopback only, under a loopback Host: a server
	// listening on every address is asked on 127.0.0.1.
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	resp, err := askServe(ctx, http.MethodGet, addr, eventsRoute+"?call="+url.QueryEscape(callID), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

// askServe sends the `callfn serve` on addr, which holds the embedded
// table, a request for path (with body, a JSON one), and returns its
// answer if it is 200 OK; the caller closes its body.
func askServe(ctx context.Context, method, addr, path string, body []byte) (*http.Response, error) {
	req, _ := http.NewRequestWithContext(ctx, method, "http://"+addr+path, bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the embedded table is locked by another process, and no callfn serve answers on %s: %w", addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("callfn serve on %s: %s: %s", addr, resp.Status, strings.TrimSpace(string(b)))
	}
	return resp, nil
}
