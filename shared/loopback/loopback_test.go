package loopback

import "testing"

func TestHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "localhost.": true, "localhost:8080": true, "app.localhost:80": true,
		"127.0.0.1": true, "127.0.0.1:8080": true, "127.1.2.3:1": true, "127.255.0.9": true,
		"[::1]": true, "[::1]:8080": true, "::1": true, "0:0:0:0:0:0:0:1": true,
		"": false, "example.com": false, "0.0.0.0": false, "0.0.0.0:8080": false, "::": false, "[::]:80": false,
		"10.0.0.1": false, "10.1.2.3": false, "localhost.example.com": false, "127.0.0.1.nip.io": false,
	} {
		if got := Host(host); got != want {
			t.Errorf("Host(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestURL(t *testing.T) {
	for raw, want := range map[string]bool{
		"http://127.0.0.1:8080/webhook/tencent": true, "https://localhost/x": true, "http://[::1]:9/": true,
		"https://attacker.example/hook": false, "http://192.168.1.5:8080/webhook/tencent": false,
		"http://127.0.0.1.nip.io/x": false, "file:///etc/passwd": false, "//localhost/x": false, "": false,
		"ftp://127.0.0.1/": false, "http://%zz": false,
	} {
		if got := URL(raw); got != want {
			t.Errorf("URL(%q) = %v, want %v", raw, got, want)
		}
	}
}
