package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store != DefaultStore || c.Addr != "127.0.0.1:8080" || c.TencentAdmin != "administrator" ||
		c.TencentRegion != "china" || c.TencentAPI != "v4" || c.RetentionDays != 0 || c.Retention() != 0 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"CALLFN_STORE": "memory:", "CALLFN_TENCENT_SDKAPPID": " 1400000001 ", "CALLFN_TENCENT_REGION": "Singapore",
		"CALLFN_TENCENT_API_VERSION": "V1", "CALLFN_RETENTION_DAYS": "30", "CALLFN_TENCENT_ENDPOINT": "http://127.0.0.1:9/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TencentAppID != 1400000001 || c.TencentRegion != "singapore" || c.TencentAPI != "v1" ||
		c.Retention() != 30*24*time.Hour || c.TencentEndpoint != "http://127.0.0.1:9" {
		t.Fatalf("%+v", c)
	}
}

func TestBadValues(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"CALLFN_TENCENT_SDKAPPID":    {"CALLFN_TENCENT_SDKAPPID": "abc"},
		"CALLFN_RETENTION_DAYS":      {"CALLFN_RETENTION_DAYS": "-1"},
		"CALLFN_TENCENT_REGION":      {"CALLFN_TENCENT_REGION": "mars"},
		"CALLFN_TENCENT_API_VERSION": {"CALLFN_TENCENT_API_VERSION": "v2"},
		"CALLFN_YUNXIN_APPSECRET":    {"CALLFN_YUNXIN_APPKEY": "k"},
	} {
		_, err := Load(env(vars))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v does not name %s", vars, err, name)
		}
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	secrets := map[string]string{
		"CALLFN_TENCENT_SECRET_KEY": "tencent-key-s3cret", "CALLFN_TENCENT_CALLBACK_TOKEN": "callback-s3cret",
		"CALLFN_API_TOKEN": "api-s3cret", "TENCENTCLOUD_SECRET_ID": "cloud-id-s3cret", "TENCENTCLOUD_SECRET_KEY": "cloud-key-s3cret",
		"CALLFN_YUNXIN_APPKEY": "yx-key", "CALLFN_YUNXIN_APPSECRET": "yx-s3cret",
	}
	c, err := Load(env(secrets))
	if err != nil {
		t.Fatal(err)
	}
	out := c.String()
	for k, v := range secrets {
		if strings.Contains(out, v) {
			t.Errorf("String() prints %s", k)
		}
	}
	if !strings.Contains(out, "tencentKeySet=true") {
		t.Errorf("String() should say which secrets are set: %s", out)
	}
}

// Every variable Load reads is listed in Vars, which the deployment
// descriptors' tests hold the descriptors to.
func TestVarsListsWhatLoadReads(t *testing.T) {
	read := map[string]bool{}
	Load(func(k string) string { read[k] = true; return "" })
	for k := range read {
		found := false
		for _, v := range Vars {
			found = found || v == k
		}
		if !found {
			t.Errorf("Load reads %s, which Vars does not list", k)
		}
	}
	if len(read) != len(Vars) {
		t.Errorf("Load reads %d variables, Vars lists %d", len(read), len(Vars))
	}
}

func TestRequire(t *testing.T) {
	c, err := Load(env(map[string]string{"CALLFN_TENCENT_SDKAPPID": "1400000001"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Require("CALLFN_TENCENT_SDKAPPID"); err != nil {
		t.Errorf("SDKAppID set: %v", err)
	}
	err = c.Require("CALLFN_TENCENT_SDKAPPID", "CALLFN_TENCENT_SECRET_KEY", "CALLFN_API_TOKEN")
	var me *MissingError
	if !errors.As(err, &me) || !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("Require: %v (%T), want a *MissingError matching ErrNotConfigured", err, err)
	}
	if got, want := err.Error(), "not configured: missing CALLFN_TENCENT_SECRET_KEY, CALLFN_API_TOKEN"; got != want {
		t.Errorf("Require: %q, want %q", got, want)
	}
	for _, v := range Vars { // every variable is known to Require
		c.Require(v)
	}
}

// Every error Load returns is a configuration error (ErrNotConfigured),
// which the functions answer 503 with instead of crashing.
func TestLoadErrorsAreNotConfigured(t *testing.T) {
	for _, vars := range []map[string]string{
		{"CALLFN_TENCENT_SDKAPPID": "0"}, {"CALLFN_TENCENT_SDKAPPID": "-1"},
		{"CALLFN_RETENTION_DAYS": "1.5"}, {"CALLFN_RETENTION_DAYS": "+5"}, {"CALLFN_RETENTION_DAYS": "100000"},
		{"CALLFN_TENCENT_REGION": "mars"}, {"CALLFN_YUNXIN_APPSECRET": "s"},
	} {
		if _, err := Load(env(vars)); !errors.Is(err, ErrNotConfigured) {
			t.Errorf("%v: %v, want an error matching ErrNotConfigured", vars, err)
		}
	}
	if c, err := Load(env(map[string]string{"CALLFN_RETENTION_DAYS": "99999"})); err != nil || c.Retention() <= 0 {
		t.Errorf("99999 days: %v, retention %v", err, c.Retention())
	}
}
