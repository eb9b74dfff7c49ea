package config

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// secret is a valid Standard Webhooks secret of n key bytes.
func secret(n int) string {
	return ForwardSecretPrefix + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", n)))
}

func TestForwardOffByDefault(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Forwarding() || c.ForwardURLs != nil || c.ForwardSecret != "" {
		t.Fatalf("forwarding on by default: %+v", c)
	}
	// A secret alone forwards nothing and is no error.
	c, err = Load(env(map[string]string{"CALLFN_FORWARD_SECRET": secret(32)}))
	if err != nil || c.Forwarding() {
		t.Fatalf("secret alone: %v, forwarding %v", err, c.Forwarding())
	}
	// Only separators: no endpoint.
	c, err = Load(env(map[string]string{"CALLFN_FORWARD_URL": " , ,"}))
	if err != nil || c.Forwarding() {
		t.Fatalf("separators only: %v, %q", err, c.ForwardURLs)
	}
}

func TestForwardURLs(t *testing.T) {
	c, err := Load(env(map[string]string{
		"CALLFN_FORWARD_URL": " https://Hooks.Example.COM:443/in?src=callfn , http://localhost:9000/h,https://hooks.example.com/in?src=callfn,," +
			"http://127.0.0.2/x, http://[::1]:8080, HTTPS://b.example/p%2Fq, https://c.example:8443",
		"CALLFN_FORWARD_SECRET": " " + secret(24) + " ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"https://hooks.example.com/in?src=callfn", // canonical; its second spelling is dropped
		"http://localhost:9000/h",
		"http://127.0.0.2/x",
		"http://[::1]:8080/",
		"https://b.example/p%2Fq", // an escaped path is kept as written
		"https://c.example:8443/",
	}
	if !slices.Equal(c.ForwardURLs, want) {
		t.Errorf("ForwardURLs\n got %q\nwant %q", c.ForwardURLs, want)
	}
	if c.ForwardSecret != secret(24) || !c.Forwarding() {
		t.Errorf("secret %q forwarding %v", c.ForwardSecret, c.Forwarding())
	}
}

func TestForwardURLRefused(t *testing.T) {
	for raw, want := range map[string]string{
		"http://example.com/h":         "only allowed to a loopback host",
		"http://127.example.com/h":     "only allowed to a loopback host",
		"http://10.0.0.1/h":            "only allowed to a loopback host",
		"http://[::ffff:8.8.8.8]/h":    "only allowed to a loopback host",
		"ftp://example.com/h":          "not an absolute http(s) URL",
		"example.com/h":                "not an absolute http(s) URL",
		"/relative":                    "not an absolute http(s) URL",
		"https:opaque":                 "not an absolute http(s) URL",
		"https:///nohost":              "not an absolute http(s) URL",
		"https://:443/h":               "no host",
		"https://user:pw@example.com/": "credentials in the URL are not allowed",
		"https://example.com/h#frag":   "fragment",
		"https://example.com/h#":       "fragment",
		"https://exa mple.com/":        "not a URL",
		"https://example.com/%zz":      "not a URL",
	} {
		_, err := ParseForwardURLs("https://ok.example/," + raw)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "CALLFN_FORWARD_URL item 2") {
			t.Errorf("%q: error %v, want one naming item 2 and saying %q", raw, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("%q: error repeats the credentials: %v", raw, err)
		}
	}
}

func TestForwardURLErrorsHideThePath(t *testing.T) {
	_, err := ParseForwardURLs("http://example.com/hook/t0ken?key=s3cret")
	if err == nil || strings.Contains(err.Error(), "t0ken") || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "http://example.com") {
		t.Errorf("error %v", err)
	}
}

func TestForwardURLLimit(t *testing.T) {
	var urls []string
	for i := range MaxForwardURLs + 1 {
		urls = append(urls, fmt.Sprintf("https://h%d.example/", i))
	}
	if got, err := ParseForwardURLs(strings.Join(urls[:MaxForwardURLs], ",")); err != nil || len(got) != MaxForwardURLs {
		t.Errorf("%d endpoints: %v", MaxForwardURLs, err)
	}
	if _, err := ParseForwardURLs(strings.Join(urls, ",")); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("%d endpoints: %v", len(urls), err)
	}
	// Duplicates do not count against the limit.
	dup := strings.Repeat("https://same.example/,", 3*MaxForwardURLs)
	if got, err := ParseForwardURLs(dup); err != nil || len(got) != 1 {
		t.Errorf("duplicates: %q %v", got, err)
	}
}

func TestForwardSecret(t *testing.T) {
	const leaky = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ" // unpadded: not standard base64
	for name, tc := range map[string]struct{ secret, want string }{
		"no prefix":   {base64.StdEncoding.EncodeToString(make([]byte, 32)), "must start with whsec_"},
		"not base64":  {"whsec_!!!not-base64!!!", "not standard base64"},
		"unpadded":    {leaky, "not standard base64"},
		"url base64":  {"whsec_" + base64.URLEncoding.EncodeToString([]byte(strings.Repeat("\xff", 30))), "not standard base64"},
		"empty key":   {"whsec_", "0 bytes"},
		"short key":   {secret(MinForwardKeyBytes - 1), "at least 24"},
		"with URL ok": {secret(MinForwardKeyBytes), ""},
		"long key":    {secret(64), ""},
	} {
		_, err := Load(env(map[string]string{"CALLFN_FORWARD_URL": "https://a.example/", "CALLFN_FORWARD_SECRET": tc.secret}))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "CALLFN_FORWARD_SECRET")):
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		case err != nil && len(tc.secret) > len("whsec_") && strings.Contains(err.Error(), strings.TrimPrefix(tc.secret, "whsec_")):
			t.Errorf("%s: error repeats the secret: %v", name, err)
		}
	}
	// Endpoints without a secret cannot be signed for.
	_, err := Load(env(map[string]string{"CALLFN_FORWARD_URL": "https://a.example/"}))
	if err == nil || !strings.Contains(err.Error(), "CALLFN_FORWARD_SECRET is not") {
		t.Errorf("URL without secret: %v", err)
	}
}

func TestForwardNeverPrinted(t *testing.T) {
	c, err := Load(env(map[string]string{
		"CALLFN_FORWARD_URL":    "https://hooks.example.com/in/t0ken?key=qu3ry, http://127.0.0.1:9/x",
		"CALLFN_FORWARD_SECRET": secret(32),
	}))
	if err != nil {
		t.Fatal(err)
	}
	out := c.String()
	for _, leak := range []string{strings.TrimPrefix(secret(32), "whsec_"), "t0ken", "qu3ry", "/x"} {
		if strings.Contains(out, leak) {
			t.Errorf("String() prints %q: %s", leak, out)
		}
	}
	for _, want := range []string{"forwardSecretSet=true", "https://hooks.example.com", "http://127.0.0.1:9"} {
		if !strings.Contains(out, want) {
			t.Errorf("String() lacks %q: %s", want, out)
		}
	}
}
