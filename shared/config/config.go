// Package config reads callfn's configuration from the environment: the
// same variables on Lambda, SCF and locally (README, "Configuration").
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is every setting callfn reads. Secrets are kept out of String and
// of every log line.
type Config struct {
	Store           string // CALLFN_STORE
	Addr            string // CALLFN_ADDR
	RetentionDays   int    // CALLFN_RETENTION_DAYS
	APIToken        string // CALLFN_API_TOKEN
	TencentAppID    uint64 // CALLFN_TENCENT_SDKAPPID
	TencentKey      string // CALLFN_TENCENT_SECRET_KEY
	TencentAdmin    string // CALLFN_TENCENT_ADMIN
	TencentRegion   string // CALLFN_TENCENT_REGION
	TencentEndpoint string // CALLFN_TENCENT_ENDPOINT
	TencentAPI      string // CALLFN_TENCENT_API_VERSION: "v4" or "v1"
	CallbackToken   string // CALLFN_TENCENT_CALLBACK_TOKEN
	CloudSecretID   string // TENCENTCLOUD_SECRET_ID
	CloudSecretKey  string // TENCENTCLOUD_SECRET_KEY
	YunxinAppKey    string // CALLFN_YUNXIN_APPKEY
	YunxinSecret    string // CALLFN_YUNXIN_APPSECRET
	// ForwardURLs are the endpoints every stored event is forwarded to,
	// canonical (ParseForwardURL); none turns forwarding off.
	ForwardURLs   []string // CALLFN_FORWARD_URL, comma-separated
	ForwardSecret string   // CALLFN_FORWARD_SECRET: whsec_ + base64 key
}

// Vars are the environment variables callfn reads; deployment descriptors
// may set these and no others of callfn's own (their tests check).
var Vars = []string{
	"CALLFN_STORE", "CALLFN_ADDR", "CALLFN_RETENTION_DAYS", "CALLFN_API_TOKEN",
	"CALLFN_TENCENT_SDKAPPID", "CALLFN_TENCENT_SECRET_KEY", "CALLFN_TENCENT_ADMIN",
	"CALLFN_TENCENT_REGION", "CALLFN_TENCENT_ENDPOINT", "CALLFN_TENCENT_API_VERSION",
	"CALLFN_TENCENT_CALLBACK_TOKEN", "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY",
	"CALLFN_YUNXIN_APPKEY", "CALLFN_YUNXIN_APPSECRET",
	"CALLFN_FORWARD_URL", "CALLFN_FORWARD_SECRET",
}

// DefaultStore is the local default: the embedded table.
const DefaultStore = "bolt:callfn.db"

// Regions are the values CALLFN_TENCENT_REGION accepts.
var Regions = []string{"china", "singapore", "seoul", "tokyo", "frankfurt", "mumbai", "siliconvalley", "jakarta"}

// FromEnv reads the process environment.
func FromEnv() (Config, error) { return Load(os.Getenv) }

// Load reads configuration through getenv, applying defaults and checking
// every value it can check without the network.
func Load(getenv func(string) string) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	var c Config
	for name, field := range c.texts() {
		*field = get(name)
	}
	c.TencentRegion = strings.ToLower(c.TencentRegion)
	c.TencentEndpoint = strings.TrimRight(c.TencentEndpoint, "/")
	c.TencentAPI = strings.ToLower(c.TencentAPI)
	if c.Store == "" {
		c.Store = DefaultStore
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.TencentAdmin == "" {
		c.TencentAdmin = "administrator"
	}
	if c.TencentRegion == "" {
		c.TencentRegion = "china"
	}
	if c.TencentAPI == "" {
		c.TencentAPI = "v4"
	}
	if v := get("CALLFN_TENCENT_SDKAPPID"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			return c, invalid("config: CALLFN_TENCENT_SDKAPPID=%q is not a positive integer", v)
		}
		c.TencentAppID = n
	}
	if v := get("CALLFN_RETENTION_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !digits(v) || n > MaxRetentionDays {
			return c, invalid("config: CALLFN_RETENTION_DAYS=%q is not a whole number of days up to %d (0 keeps events)", v, MaxRetentionDays)
		}
		c.RetentionDays = n
	}
	if !contains(Regions, c.TencentRegion) {
		return c, invalid("config: CALLFN_TENCENT_REGION=%q is not one of %s", c.TencentRegion, strings.Join(Regions, ", "))
	}
	if c.TencentAPI != "v4" && c.TencentAPI != "v1" {
		return c, invalid("config: CALLFN_TENCENT_API_VERSION=%q: want v4 or v1", c.TencentAPI)
	}
	if (c.YunxinAppKey == "") != (c.YunxinSecret == "") {
		return c, invalid("config: CALLFN_YUNXIN_APPKEY and CALLFN_YUNXIN_APPSECRET go together")
	}
	urls, err := ParseForwardURLs(get("CALLFN_FORWARD_URL"))
	if err != nil {
		return c, err
	}
	c.ForwardURLs = urls
	if c.ForwardSecret != "" {
		if err := CheckForwardSecret(c.ForwardSecret); err != nil {
			return c, err
		}
	} else if len(c.ForwardURLs) > 0 {
		return c, fmt.Errorf("config: CALLFN_FORWARD_URL is set but CALLFN_FORWARD_SECRET is not: deliveries are signed")
	}
	return c, nil
}

// MaxRetentionDays is the most CALLFN_RETENTION_DAYS takes (some 270
// years; more would overflow a time.Duration).
const MaxRetentionDays = 99999

// ErrNotConfigured is what every configuration error matches (errors.Is):
// a setting is missing (*MissingError, from Require) or not valid (Load).
// A function whose build fails so is not a crash: shared/platform/run
// starts it all the same and answers every request 503 with the error's
// message, which names the variables (and never a secret's value).
var ErrNotConfigured = errors.New("not configured")

// configError is an invalid setting, as Load reports it.
type configError struct{ msg string }

func (e *configError) Error() string        { return e.msg }
func (e *configError) Is(target error) bool { return target == ErrNotConfigured }

func invalid(format string, args ...any) error {
	return &configError{msg: fmt.Sprintf(format, args...)}
}

// MissingError names the variables a function cannot run without that are
// unset.
type MissingError struct {
	Vars []string
}

func (e *MissingError) Error() string {
	return "not configured: missing " + strings.Join(e.Vars, ", ")
}

// Is makes a *MissingError match ErrNotConfigured.
func (e *MissingError) Is(target error) bool { return target == ErrNotConfigured }

// Require returns a *MissingError naming those of vars (names from Vars)
// that are unset in c, or nil when every one is set. A name Require does
// not know is a programming error: it panics.
func (c Config) Require(vars ...string) error {
	var missing []string
	for _, v := range vars {
		set, ok := c.isSet(v)
		if !ok {
			panic("config: Require: unknown variable " + v)
		}
		if !set {
			missing = append(missing, v)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &MissingError{Vars: missing}
}

// texts are the settings read as text, by variable: every one of Vars
// but CALLFN_RETENTION_DAYS, CALLFN_TENCENT_SDKAPPID and
// CALLFN_FORWARD_URL, which Load parses.
func (c *Config) texts() map[string]*string {
	return map[string]*string{
		"CALLFN_STORE":                  &c.Store,
		"CALLFN_ADDR":                   &c.Addr,
		"CALLFN_API_TOKEN":              &c.APIToken,
		"CALLFN_TENCENT_SECRET_KEY":     &c.TencentKey,
		"CALLFN_TENCENT_ADMIN":          &c.TencentAdmin,
		"CALLFN_TENCENT_REGION":         &c.TencentRegion,
		"CALLFN_TENCENT_ENDPOINT":       &c.TencentEndpoint,
		"CALLFN_TENCENT_API_VERSION":    &c.TencentAPI,
		"CALLFN_TENCENT_CALLBACK_TOKEN": &c.CallbackToken,
		"TENCENTCLOUD_SECRET_ID":        &c.CloudSecretID,
		"TENCENTCLOUD_SECRET_KEY":       &c.CloudSecretKey,
		"CALLFN_YUNXIN_APPKEY":          &c.YunxinAppKey,
		"CALLFN_YUNXIN_APPSECRET":       &c.YunxinSecret,
		"CALLFN_FORWARD_SECRET":         &c.ForwardSecret,
	}
}

// isSet reports whether the setting behind variable name has a value; ok
// is false for a name that is not one of Vars.
func (c Config) isSet(name string) (set, ok bool) {
	if field, ok := c.texts()[name]; ok {
		return *field != "", true
	}
	switch name {
	case "CALLFN_RETENTION_DAYS":
		return true, true // 0 is a value: keep events
	case "CALLFN_TENCENT_SDKAPPID":
		return c.TencentAppID != 0, true
	case "CALLFN_FORWARD_URL":
		return len(c.ForwardURLs) > 0, true
	}
	return false, false
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// Retention is CALLFN_RETENTION_DAYS as a duration; 0 keeps events.
func (c Config) Retention() time.Duration { return time.Duration(c.RetentionDays) * 24 * time.Hour }

// Forwarding reports whether stored events are forwarded (CALLFN_FORWARD_URL
// names at least one endpoint).
func (c Config) Forwarding() bool { return len(c.ForwardURLs) > 0 }

// LogValue lets slog print a Config without its secrets.
func (c Config) LogValue() slog.Value {
	set := func(s string) bool { return s != "" }
	return slog.GroupValue(
		slog.String("store", c.Store),
		slog.Uint64("tencentSdkAppId", c.TencentAppID),
		slog.String("tencentRegion", c.TencentRegion),
		slog.String("tencentEndpoint", c.TencentEndpoint),
		slog.String("tencentApi", c.TencentAPI),
		slog.Bool("tencentKeySet", set(c.TencentKey)),
		slog.Bool("callbackTokenSet", set(c.CallbackToken)),
		slog.Bool("apiTokenSet", set(c.APIToken)),
		slog.Bool("yunxinSet", set(c.YunxinAppKey)),
		slog.Int("retentionDays", c.RetentionDays),
		// Endpoints by scheme and host: a path or query may hold a token.
		slog.Any("forwardTo", forwardOrigins(c.ForwardURLs)),
		slog.Bool("forwardSecretSet", set(c.ForwardSecret)),
	)
}

// String never prints a secret.
func (c Config) String() string { return c.LogValue().String() }

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
