package benchkit

import (
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{0.3, 0.25, 9, 0.27, 0.31}, 0.3}, // one wild round does not move it far
	} {
		if got := Median(c.xs); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
}

func TestQuantile(t *testing.T) {
	xs := []float64{10, 40, 20, 30, 50} // sorted: 10 20 30 40 50
	for _, c := range []struct{ q, want float64 }{
		{0, 10}, {0.25, 20}, {0.5, 30}, {0.75, 40}, {1, 50},
		{0.1, 14}, {0.9, 46}, // between ranks: linear
		{-1, 10}, {2, 50}, // clamped
	} {
		if got := Quantile(xs, c.q); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	// R: quantile(c(1,2,3,4), type=7) → 1.75 2.5 3.25
	four := []float64{4, 3, 2, 1}
	for _, c := range []struct{ q, want float64 }{{0.25, 1.75}, {0.5, 2.5}, {0.75, 3.25}} {
		if got := Quantile(four, c.q); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Quantile(1..4, %v) = %v, want %v", c.q, got, c.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	xs := []float64{0.31, 0.22, 0.29, 0.35, 0.27, 0.30, 0.28}
	orig := slices.Clone(xs)
	s := Summarize(xs)
	want := Stats{N: 7, Median: 0.29, Min: 0.22, Max: 0.35, Q1: 0.275, Q3: 0.305}
	if s.N != want.N || !near(s.Median, want.Median) || s.Min != want.Min || s.Max != want.Max ||
		!near(s.Q1, want.Q1) || !near(s.Q3, want.Q3) {
		t.Errorf("Summarize = %+v, want %+v", s, want)
	}
	if !near(s.IQR(), 0.03) {
		t.Errorf("IQR = %v", s.IQR())
	}
	if !slices.Equal(xs, orig) {
		t.Errorf("Summarize reordered its input: %v", xs)
	}
	if got := s.String(); got != "0.29 (0.22..0.35 over 7 rounds)" {
		t.Errorf("String = %q", got)
	}
	if e := Summarize(nil); e.N != 0 || !math.IsNaN(e.Median) || !math.IsNaN(e.Min) || !math.IsNaN(e.Max) {
		t.Errorf("Summarize(nil) = %+v", e)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestAlternate(t *testing.T) {
	var order []string
	rs := Alternate(3,
		func(i int) float64 { order = append(order, "A"); return float64(10 * (i + 1)) },
		func(i int) float64 { order = append(order, "B"); return float64(i + 1) })
	if got := order; !slices.Equal(got, []string{"A", "B", "A", "B", "A", "B"}) {
		t.Errorf("order %v, want A B A B A B", got)
	}
	if got := rs.Floors(); !slices.Equal(got, []float64{10, 20, 30}) {
		t.Errorf("Floors %v", got)
	}
	if got := rs.Subjects(); !slices.Equal(got, []float64{1, 2, 3}) {
		t.Errorf("Subjects %v", got)
	}
	if got := rs.Ratios(); !slices.Equal(got, []float64{0.1, 0.1, 0.1}) {
		t.Errorf("Ratios %v", got)
	}
	if got := Series("bare", rs.Floors()); got != "bare: 10 20 30" {
		t.Errorf("Series = %q", got)
	}
	if got := Series("ratio", []float64{0.123456, 12.5, 1234567.4}); got != "ratio: 0.1235 12.5 1234567" {
		t.Errorf("Series = %q", got)
	}
}

func TestParseStat(t *testing.T) {
	// A command name with spaces and parentheses; utime 1234, stime 56.
	line := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 8 0 300 1000000 200 18446744073709551615\n"
	ticks, err := parseStat([]byte(line))
	if err != nil || ticks != 1290 {
		t.Fatalf("parseStat = %d, %v; want 1290", ticks, err)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 x 1"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) did not fail", bad)
		}
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tcallfn\nVmPeak:\t 900000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\nRssAnon:\t   30720 kB\nRssFile:\t   10240 kB\nRssShmem:\t       0 kB\nThreads:\t8\n"
	m, err := parseStatus([]byte(status))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Mem{Peak: 50 << 20, RSS: 40 << 20, Anon: 30 << 20, File: 10 << 20}); m != want {
		t.Errorf("parseStatus = %+v, want %+v", m, want)
	}
	if MiB(m.Peak) != 50 {
		t.Errorf("MiB = %v", MiB(m.Peak))
	}
	if _, err := parseStatus([]byte("Name:\tx\n")); err == nil {
		t.Error("a status without VmHWM did not fail")
	}
}

// burn keeps one core busy for about d.
// spin does a fixed amount of work: its CPU time does not depend on how
// busy the machine is, only its wall time does.
func spin(n int) {
	x := 0
	for i := range n {
		x += i ^ (x >> 3)
	}
	runtime.KeepAlive(x)
}

func TestProcessCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads Linux's getrusage and /proc")
	}
	c0 := ProcessCPU()
	p0, err := PidCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	w0 := time.Now()
	spin(400_000_000) // some 0.2 to 1 s of CPU on one core, however busy the machine
	wall := time.Since(w0)
	c1 := ProcessCPU()
	p1, err := PidCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Fixed work takes CPU time whatever the load; a thread cannot use more
	// than the wall time (the GC's workers may add some); and the two
	// readings count the same process (/proc in 10 ms ticks).
	rusage, stat := c1-c0, p1-p0
	if rusage < 20*time.Millisecond || rusage > 2*wall+50*time.Millisecond {
		t.Errorf("getrusage counted %v for fixed work that took %v of wall time", rusage, wall)
	}
	if diff := (rusage - stat).Abs(); diff > 30*time.Millisecond+rusage/10 {
		t.Errorf("getrusage counted %v, /proc/self/stat %v, for the same work", rusage, stat)
	}
	m, err := ReadMem(os.Getpid())
	if err != nil || m.Peak <= 0 || m.RSS <= 0 || m.Peak < m.RSS {
		t.Errorf("ReadMem = %+v, %v", m, err)
	}
}

// A child process's CPU time and peak memory, read while it runs and
// after it has exited.
func TestChildCPUAndMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads Linux's getrusage and /proc")
	}
	if os.Getenv("BENCHKIT_CHILD") == "1" {
		buf := make([]byte, 64<<20) // touch 64 MiB, then spend CPU
		for i := range buf {
			buf[i] = byte(i)
		}
		spin(800_000_000)
		runtime.KeepAlive(buf)
		os.Stdout.WriteString("done\n")
		time.Sleep(5 * time.Second) // until killed
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildCPUAndMemory$")
	cmd.Env = append(os.Environ(), "BENCHKIT_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	children0 := ChildrenCPU()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sampler := SampleMem(cmd.Process.Pid, 10*time.Millisecond)
	buf := make([]byte, 5)
	if _, err := out.Read(buf); err != nil || string(buf) != "done\n" {
		t.Fatalf("child said %q, %v", buf, err)
	}
	cpu, err := PidCPU(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := sampler.Stop()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if cpu < 100*time.Millisecond || cpu > 20*time.Second {
		t.Errorf("child's CPU time %v for its fixed work, want 0.1 s or more", cpu)
	}
	if mem.Peak < 64<<20 || mem.Anon < 60<<20 || mem.Peak < mem.RSS {
		t.Errorf("child's memory %+v, want a peak and anonymous memory of 64 MiB or more", mem)
	}
	waited := ChildrenCPU() - children0
	if st := cmd.ProcessState; waited < cpu || st.UserTime()+st.SystemTime() < cpu {
		t.Errorf("after wait: RUSAGE_CHILDREN grew by %v, ProcessState says %v; /proc said %v before",
			waited, st.UserTime()+st.SystemTime(), cpu)
	}
}
