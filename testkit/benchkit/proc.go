package benchkit

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// userHZ is the unit of /proc/<pid>/stat's CPU times: USER_HZ, 100 ticks a
// second on every architecture Linux exposes to user space this way.
const userHZ = 100

// PidCPU is the CPU time (user + system, every thread, reaped threads
// included) process pid has used so far, from /proc/<pid>/stat; its
// resolution is 10 ms, so measure spans of a second or more. For a child
// that has exited and been waited for, use its os.ProcessState
// (UserTime + SystemTime) instead.
func PidCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("benchkit: CPU time of process %d: %w", pid, err)
	}
	ticks, err := parseStat(data)
	if err != nil {
		return 0, fmt.Errorf("benchkit: CPU time of process %d: %w", pid, err)
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// parseStat returns utime + stime, in ticks, from a /proc/<pid>/stat line.
// The command name, field 2, is in parentheses and may hold spaces and
// parentheses itself, so the fields are counted from its last ')'.
func parseStat(data []byte) (int64, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, fmt.Errorf("malformed stat %q", data)
	}
	// After the name: state (field 3) ... utime (14), stime (15).
	f := strings.Fields(string(data[end+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed stat %q", data)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed stat %q", data)
	}
	return utime + stime, nil
}

// Mem is a process's memory, from /proc/<pid>/status, in bytes.
type Mem struct {
	Peak int64 // VmHWM: the largest resident set so far
	RSS  int64 // VmRSS: the resident set now, the sum of the three below
	Anon int64 // RssAnon: heap, stacks: the process's own memory
	File int64 // RssFile: resident pages of mapped files (an mmapped database, the binary)
	Shm  int64 // RssShmem
}

// MiB is n bytes in MiB.
func MiB(n int64) float64 { return float64(n) / (1 << 20) }

// ReadMem reads process pid's memory figures.
func ReadMem(pid int) (Mem, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Mem{}, fmt.Errorf("benchkit: memory of process %d: %w", pid, err)
	}
	m, err := parseStatus(data)
	if err != nil {
		return Mem{}, fmt.Errorf("benchkit: memory of process %d: %w", pid, err)
	}
	return m, nil
}

// PeakRSS is process pid's largest resident set so far (VmHWM), in bytes.
func PeakRSS(pid int) (int64, error) {
	m, err := ReadMem(pid)
	return m.Peak, err
}

func parseStatus(data []byte) (Mem, error) {
	var m Mem
	fields := map[string]*int64{"VmHWM:": &m.Peak, "VmRSS:": &m.RSS, "RssAnon:": &m.Anon, "RssFile:": &m.File, "RssShmem:": &m.Shm}
	found := false
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[2] != "kB" {
			continue
		}
		if p := fields[f[0]]; p != nil {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return Mem{}, fmt.Errorf("malformed %s %q", f[0], f[1])
			}
			*p = kb << 10
			found = found || f[0] == "VmHWM:"
		}
	}
	if !found {
		return Mem{}, fmt.Errorf("no VmHWM in status")
	}
	return m, nil
}

// MemSampler reads a process's memory every interval and keeps the
// largest of each figure, so that the share of the peak that is a file's
// mapping (RssFile) can be told from the process's own memory (RssAnon):
// the kernel keeps a peak only for the total.
type MemSampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	max  Mem
	err  error
}

// SampleMem starts sampling process pid's memory every interval.
func SampleMem(pid int, interval time.Duration) *MemSampler {
	s := &MemSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *MemSampler) sample() {
	m, err := ReadMem(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return
	}
	s.max = Mem{
		Peak: max(s.max.Peak, m.Peak), RSS: max(s.max.RSS, m.RSS),
		Anon: max(s.max.Anon, m.Anon), File: max(s.max.File, m.File), Shm: max(s.max.Shm, m.Shm),
	}
}

// Stop takes a last sample (call it before the process exits), stops,
// and returns the largest figures seen; Peak is the kernel's own peak
// (VmHWM). The error is the first failed read, if any.
func (s *MemSampler) Stop() (Mem, error) {
	close(s.stop)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max, s.err
}
