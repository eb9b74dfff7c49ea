// Package loopback tells whether a host or a URL names this machine. It is
// the one test behind every loopback-only rule: callfn serve's local routes
// (Host and Origin), the Tencent sandbox's requests and callback URLs,
// forwarding endpoints allowed over plain http, and `callfn tencent
// set-callback`'s URL check.
package loopback

import (
	"net"
	"net/url"
	"strings"
)

// Host reports whether hostport (a Host header, or a URL's host, with or
// without a port) names this machine's loopback: localhost or a name under
// .localhost (RFC 6761), an address in 127.0.0.0/8, or ::1.
func Host(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// URL reports whether raw is an absolute http or https URL whose host is
// on loopback (Host).
func URL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && Host(u.Host)
}
