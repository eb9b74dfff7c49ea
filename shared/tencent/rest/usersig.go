package rest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
)

// UserSig defaults (spec §2): Tencent recommends a validity of at least a
// day; a signature is reused until SigRefresh before it expires.
const (
	DefaultSigTTL     = 24 * time.Hour
	DefaultSigRefresh = time.Hour
)

// maxCachedSigs bounds the per-user cache (robots' UserSigs).
const maxCachedSigs = 1024

// Signer makes UserSigs for one app with tls-sig-api-v2 and caches each
// user's until shortly before it expires, so a warm process signs once a day
// rather than once a request. It is safe for concurrent use.
type Signer struct {
	appID   uint64
	key     string
	ttl     time.Duration
	refresh time.Duration
	now     func() time.Time

	mu   sync.Mutex
	sigs map[string]cachedSig
	gens atomic.Int64
}

type cachedSig struct {
	sig       string
	refreshAt time.Time
}

// SignerOptions tune a Signer; zero values take the defaults.
type SignerOptions struct {
	TTL     time.Duration    // validity of each UserSig (DefaultSigTTL)
	Refresh time.Duration    // make a new one this long before expiry (DefaultSigRefresh)
	Now     func() time.Time // the clock deciding reuse (time.Now)
}

// NewSigner returns a Signer for appID and its secret key.
func NewSigner(appID uint64, key string, o SignerOptions) (*Signer, error) {
	if appID == 0 || key == "" {
		return nil, errors.New("tencent: a UserSig needs the SDKAppID and its secret key (CALLFN_TENCENT_SDKAPPID, CALLFN_TENCENT_SECRET_KEY)")
	}
	if o.TTL <= 0 {
		o.TTL = DefaultSigTTL
	}
	if o.Refresh <= 0 || o.Refresh >= o.TTL {
		o.Refresh = min(DefaultSigRefresh, o.TTL/10)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Signer{appID: appID, key: key, ttl: o.TTL, refresh: o.Refresh, now: o.Now, sigs: map[string]cachedSig{}}, nil
}

// AppID is the SDKAppID the signer signs for.
func (s *Signer) AppID() uint64 { return s.appID }

// UserSig returns a valid UserSig for user, made now or reused.
func (s *Signer) UserSig(user string) (string, error) {
	if user == "" {
		return "", errors.New("tencent: a UserSig needs a user id")
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.sigs[user]; ok && now.Before(c.refreshAt) {
		return c.sig, nil
	}
	sig, err := tencentyun.GenUserSig(int(s.appID), s.key, user, int(s.ttl/time.Second))
	if err != nil {
		// The library's errors carry neither the key nor the signature.
		return "", fmt.Errorf("tencent: making a UserSig: %w", err)
	}
	s.gens.Add(1)
	if len(s.sigs) >= maxCachedSigs {
		for u, c := range s.sigs {
			if !now.Before(c.refreshAt) {
				delete(s.sigs, u)
			}
		}
		if len(s.sigs) >= maxCachedSigs {
			clear(s.sigs)
		}
	}
	s.sigs[user] = cachedSig{sig: sig, refreshAt: now.Add(s.ttl - s.refresh)}
	return sig, nil
}

// Forget drops user's cached UserSig, so the next UserSig makes a new one
// (after Tencent said it expired).
func (s *Signer) Forget(user string) {
	s.mu.Lock()
	delete(s.sigs, user)
	s.mu.Unlock()
}

// Generations counts the UserSigs made so far.
func (s *Signer) Generations() int64 { return s.gens.Load() }

// String never prints the key.
func (s *Signer) String() string { return fmt.Sprintf("tencent.Signer{SDKAppID: %d}", s.appID) }
