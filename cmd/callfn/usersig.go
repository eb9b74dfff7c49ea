package main

import (
	"context"
	"fmt"
	"time"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/tencent/sandbox"
)

// usersig prints a UserSig for USER, the credential a TUICallKit client
// holds and GET /me/calls takes: signed for the configured Tencent app
// (CALLFN_TENCENT_SDKAPPID, CALLFN_TENCENT_SECRET_KEY) or, with no Tencent
// credentials, for the sandbox `callfn serve` then plays.
func usersig(ctx context.Context, args []string) error {
	fs := newFlags("usersig")
	ttl := fs.Duration("ttl", rest.DefaultSigTTL, "how long the UserSig is valid")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		return fmt.Errorf("usage: callfn usersig [--ttl 24h] USER")
	}
	if *ttl < time.Second {
		return fmt.Errorf("--ttl %s: want at least a second", *ttl)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	appID, key := cfg.TencentAppID, cfg.TencentKey
	if sandbox.Wanted(cfg) {
		// As serve: the sandbox plays the configured app, else its own.
		if appID == 0 {
			appID = sandbox.DefaultSDKAppID
		}
		key = sandbox.DefaultKey
	}
	signer, err := rest.NewSigner(appID, key, rest.SignerOptions{TTL: *ttl})
	if err != nil {
		return err
	}
	sig, err := signer.UserSig(fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Println(sig)
	return nil
}
