package sandbox

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// The sandbox is a local stand-in: it answers only requests addressed to a
// loopback Host, so a web page cannot drive it through DNS rebinding, and it
// delivers callbacks only to loopback URLs, so no caller can have it sign
// requests (with the configured callback token) to anywhere else.

// errNotLoopback is a callback URL the sandbox will not deliver to.
var errNotLoopback = errors.New("the sandbox delivers callbacks only to http(s) URLs on this machine (localhost, 127.0.0.1, [::1])")

// isLoopbackHost reports whether hostport (a Host header or a URL's host,
// with or without a port) names the loopback: localhost, 127.0.0.0/8, ::1.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkCallbackURL refuses a callback URL that is not on loopback.
func checkCallbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !isLoopbackHost(u.Host) {
		return errNotLoopback
	}
	return nil
}
