package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"time"

	"github.com/callfn/callfn/shared/loopback"
)

// Handler serves the routes of fns together, plus GET /healthz, giving each
// request a request id (the caller's X-Request-Id, else a fresh one) unless
// an adapter already put one in its context. /healthz answers 200 ok, or
// 503 when one of fns is Unavailable.
func Handler(fns ...Function) http.Handler {
	mux := http.NewServeMux()
	health := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"status":"ok"}`)
	})
	for _, fn := range fns {
		if fn.unavailable != nil {
			health = fn.unavailable
		}
	}
	mux.Handle("GET /healthz", health)
	for _, fn := range fns {
		for _, rt := range fn.Routes {
			mux.Handle(rt.Pattern, rt.Handler)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if RequestID(r.Context()) == "" {
			id := r.Header.Get("X-Request-Id")
			if id == "" || len(id) > 128 {
				id = newID()
			}
			r = r.WithContext(WithRequestID(r.Context(), id))
		}
		mux.ServeHTTP(w, r)
	})
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Serve serves h on addr until ctx is done, then shuts down gracefully.
// ready, when not nil, is called once the listener is bound.
func Serve(ctx context.Context, addr string, h http.Handler, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr())
	}
	return ServeListener(ctx, ln, h)
}

// ServeListener serves h on ln until ctx is done, then shuts down gracefully.
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	slog.Info("listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// LocalOnly guards routes that only this machine's own tools may use
// (callfn serve's /_callfn/*), which a web page open in the developer's
// browser must not reach. It answers 403 to a request
//
//   - that did not come over loopback;
//   - whose Host is not a loopback name or address (localhost, 127.0.0.0/8,
//     [::1], with or without a port): a page whose own name has been
//     rebound to 127.0.0.1 (DNS rebinding) still sends its own name;
//   - that carries an Origin other than a loopback one: browsers send it
//     with every cross-site POST, and callfn's tools send none;
//   - with a method that has a body (anything but GET, HEAD) whose
//     Content-Type is not application/json: the only types a page can send
//     cross-site without a CORS preflight (which nothing here answers) are
//     text/plain and the two form encodings.
func LocalOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if why := localRefusal(r); why != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			b, _ := json.Marshal(map[string]string{"error": why})
			w.Write(append(b, '\n'))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func localRefusal(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return "loopback only"
	}
	if !loopback.Host(r.Host) {
		return "loopback only: the Host must be localhost, 127.0.0.1 or [::1]"
	}
	if o := r.Header.Get("Origin"); o != "" {
		if !loopback.URL(o) {
			return "loopback only: cross-origin requests are refused"
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return "send the body as Content-Type: application/json"
		}
	}
	return ""
}
