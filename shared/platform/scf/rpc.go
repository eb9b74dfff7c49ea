package scf

// SCF's Go runtime starts the function's binary with _LAMBDA_SERVER_PORT set
// and calls it over net/rpc: "Function.Ping", and "Function.Invoke" with a
// messages.InvokeRequest per invocation (the protocol AWS Lambda's go1.x
// runtime had, which scf-go-lib forked). scf-go-lib's cloudfunction.Start
// serves that protocol, but its Function type cannot be built outside the
// lib (its handler field is unexported) and it cannot be stopped, so this
// file serves the same protocol with the lib's own message types and
// functioncontext.
//
// Where it listens follows the lib, which is Tencent's own word on what its
// runtime dials: scf-go-lib listened on "localhost:PORT" until September
// 2023, when commit 13c9a7e ("optimize start-up", the version go.mod pins)
// moved it to "0.0.0.0:PORT". Nothing outside Tencent says which address the
// runtime dials, and a Go function that cannot be reached fails every
// invocation, so callfn listens where the lib listens: ListenHost, which
// rpc_test.go checks against the lib's source in the module cache (a bump of
// the lib that moves it again fails that test). Loopback alone would be
// tighter, but is only safe if the runtime dials loopback, which nothing
// here can prove; the port is inside the function's own instance, which
// takes no inbound connections from the network (SCF functions are reached
// only through their triggers).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/rpc"
	"os"
	"reflect"
	"runtime/debug"
	"time"

	"github.com/callfn/callfn/shared/platform"
	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"
	"github.com/tencentyun/scf-go-lib/functioncontext"
)

// ListenHost is the address the function listens on for SCF's runtime:
// scf-go-lib's (see above).
const ListenHost = "0.0.0.0"

// PortEnv names the variable in which SCF's runtime passes the port.
const PortEnv = "_LAMBDA_SERVER_PORT"

// Start serves fn to SCF's runtime on ListenHost at the port in PortEnv,
// until ctx is done.
func Start(ctx context.Context, fn platform.Function) error {
	port := os.Getenv(PortEnv)
	if port == "" {
		return fmt.Errorf("scf: %s is not set; is this running under SCF?", PortEnv)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ListenHost, port))
	if err != nil {
		return fmt.Errorf("scf: %w", err)
	}
	return Serve(ctx, ln, Handler(fn))
}

// Serve answers SCF's runtime on ln with handler until ctx is done or ln
// fails, and closes ln.
func Serve(ctx context.Context, ln net.Listener, handler func(context.Context, json.RawMessage) (any, error)) error {
	srv := rpc.NewServer()
	if err := srv.RegisterName("Function", &rpcFunction{handler: handler}); err != nil {
		ln.Close()
		return fmt.Errorf("scf: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	srv.Accept(ln) // returns when ln fails or is closed
	ln.Close()
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("scf: listener closed")
}

// rpcFunction is the net/rpc receiver "Function", as scf-go-lib's
// cloudfunction.Function.
type rpcFunction struct {
	handler func(context.Context, json.RawMessage) (any, error)
}

func (f *rpcFunction) Ping(_ *messages.PingRequest, resp *messages.PingResponse) error {
	*resp = messages.PingResponse{}
	return nil
}

// Invoke runs one invocation as scf-go-lib's Function.Invoke does: with the
// request's deadline, its metadata in a functioncontext.FunctionContext, and
// its Environment set in the process (SCF refreshes role credentials so);
// errors and panics become InvokeResponse.Error (a panic with ShouldExit, so
// that the runtime restarts the process). A request with no deadline gets
// one from its TimeLimitInMs (the function's timeout), else none, where the
// lib would cancel at once.
func (f *rpcFunction) Invoke(req *messages.InvokeRequest, resp *messages.InvokeResponse) error {
	defer func() {
		if v := recover(); v != nil {
			slog.Error("invocation panicked", "requestId", req.RequestId, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			resp.Error = &messages.InvokeResponse_Error{Message: fmt.Sprint(v), Type: typeName(v), ShouldExit: true}
		}
	}()
	ctx := context.Background()
	if req.Deadline != (messages.InvokeRequest_Timestamp{}) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(req.Deadline.Seconds, req.Deadline.Nanos))
		defer cancel()
	} else if req.TimeLimitInMs > 0 {
		// No deadline, but the function's timeout: the invocation ends
		// that long from now at the latest, and store calls must stop
		// before it (store.CallContext).
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeLimitInMs)*time.Millisecond)
		defer cancel()
	}
	fc := &functioncontext.FunctionContext{
		RequestID:             req.RequestId,
		InvokedFunctionUnique: req.InvokedFunctionUnique,
		Namespace:             req.Namespace,
		FunctionName:          req.FunctionName,
		FunctionVersion:       req.FunctionVersion,
		MemoryLimitInMb:       req.MemoryLimitInMb,
		TimeLimitInMs:         req.TimeLimitInMs,
		TencentcloudRegion:    req.TencentcloudRegion,
		TencentcloudAppID:     req.TencentcloudAppID,
		TencentcloudUin:       req.TencentcloudUin,
		FunctionTrace:         req.FunctionTrace,
	}
	if len(req.ClientContext) > 0 {
		if err := json.Unmarshal(req.ClientContext, &fc.ClientContext); err != nil {
			resp.Error = errorResponse(err)
			return nil
		}
	}
	if req.Environment != "" {
		if err := json.Unmarshal([]byte(req.Environment), &fc.Environment); err != nil {
			resp.Error = errorResponse(err)
			return nil
		}
		for k, v := range fc.Environment {
			os.Setenv(k, v)
		}
	}
	out, err := f.handler(functioncontext.NewContext(ctx, fc), req.Payload)
	if err != nil {
		resp.Error = errorResponse(err)
		return nil
	}
	payload, err := json.Marshal(out)
	if err != nil {
		resp.Error = errorResponse(err)
		return nil
	}
	resp.Payload = payload
	return nil
}

func errorResponse(err error) *messages.InvokeResponse_Error {
	return &messages.InvokeResponse_Error{Message: err.Error(), Type: typeName(err)}
}

// typeName names v's type as the lib does: without package, pointer elided.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}
