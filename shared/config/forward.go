package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/callfn/callfn/shared/loopback"
)

// MaxForwardURLs is how many endpoints CALLFN_FORWARD_URL may name: every
// stored event is owed once to each of them.
const MaxForwardURLs = 10

// ForwardSecretPrefix starts a Standard Webhooks secret ("whsec_" followed
// by the base64 of the signing key).
const ForwardSecretPrefix = "whsec_"

// MinForwardKeyBytes is the shortest signing key CALLFN_FORWARD_SECRET may
// carry: the Standard Webhooks specification asks for 24 to 64 bytes.
const MinForwardKeyBytes = 24

// ParseForwardURLs reads CALLFN_FORWARD_URL: comma-separated endpoint URLs,
// each checked and put in canonical form by ParseForwardURL, in the order
// given, duplicates (after canonicalisation) dropped. Empty items (a
// trailing comma) are ignored; "" gives no endpoints (forwarding is off).
func ParseForwardURLs(v string) ([]string, error) {
	var out []string
	for i, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		u, err := ParseForwardURL(item)
		if err != nil {
			return nil, fmt.Errorf("config: CALLFN_FORWARD_URL item %d: %w", i+1, err)
		}
		if !contains(out, u) {
			out = append(out, u)
		}
	}
	if len(out) > MaxForwardURLs {
		return nil, fmt.Errorf("config: CALLFN_FORWARD_URL names %d endpoints, at most %d are allowed", len(out), MaxForwardURLs)
	}
	return out, nil
}

// ParseForwardURL checks one endpoint and returns it in canonical form: an
// absolute https URL (http only to a loopback host: localhost, 127.0.0.0/8,
// ::1), with no credentials and no fragment; scheme and host lower-cased,
// the scheme's default port dropped and an empty path written "/". The
// canonical form is what a delivery's webhook-id is derived from, so two
// spellings of one endpoint share ids. Errors name the URL only by its
// scheme and host, since a path or query may carry a token.
func ParseForwardURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", errors.New("not a URL")
	}
	scheme := strings.ToLower(u.Scheme)
	if u.Opaque != "" || u.Host == "" || (scheme != "https" && scheme != "http") {
		return "", errors.New("not an absolute http(s) URL (want https://host/path)")
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	where := scheme + "://" + u.Host
	if host == "" {
		return "", fmt.Errorf("%s: no host", where)
	}
	if u.User != nil {
		return "", fmt.Errorf("%s: credentials in the URL are not allowed (receivers authenticate the signature)", where)
	}
	if strings.Contains(raw, "#") {
		return "", fmt.Errorf("%s: a fragment (#...) is never sent; remove it", where)
	}
	if scheme == "http" && !loopback.Host(host) {
		return "", fmt.Errorf("%s: http is only allowed to a loopback host; use https", where)
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	u.Scheme = scheme
	u.Host = host
	if strings.Contains(host, ":") { // an IPv6 literal
		u.Host = "[" + host + "]"
	}
	if port != "" {
		u.Host += ":" + port
	}
	if u.Path == "" {
		u.Path, u.RawPath = "/", ""
	}
	u.ForceQuery = false
	return u.String(), nil
}

// CheckForwardSecret checks a Standard Webhooks secret: "whsec_" and the
// standard base64 of a key of at least MinForwardKeyBytes bytes. Its
// errors never repeat the secret.
func CheckForwardSecret(s string) error {
	b64, ok := strings.CutPrefix(s, ForwardSecretPrefix)
	if !ok {
		return errors.New("config: CALLFN_FORWARD_SECRET must start with " + ForwardSecretPrefix + " (a Standard Webhooks secret)")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return errors.New("config: CALLFN_FORWARD_SECRET: what follows " + ForwardSecretPrefix + " is not standard base64")
	}
	if len(key) < MinForwardKeyBytes {
		return fmt.Errorf("config: CALLFN_FORWARD_SECRET: the key is %d bytes, at least %d are needed", len(key), MinForwardKeyBytes)
	}
	return nil
}

// forwardOrigins names the endpoints by scheme and host only, for logs.
func forwardOrigins(urls []string) []string {
	out := make([]string, 0, len(urls))
	for _, s := range urls {
		if u, err := url.Parse(s); err == nil {
			out = append(out, u.Scheme+"://"+u.Host)
		}
	}
	return out
}
