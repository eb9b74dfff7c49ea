package deploy_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/callfn/callfn/testkit"
	"github.com/callfn/callfn/testkit/deploy"
)

// goarchOf maps Lambda's architecture names to Go's GOARCH.
var goarchOf = map[string]string{"x86_64": "amd64", "arm64": "arm64"}

// makeBuild runs `make build-<id>` (what sam build runs) in the repo root,
// with a GOARCH the caller happens to have exported and passed, and
// returns its output. dry: make -n, which prints the commands it would run.
func makeBuild(t *testing.T, id, template, artifacts, callerGOARCH string, dry bool) (string, error) {
	t.Helper()
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("no make on PATH")
	}
	if _, err := exec.LookPath("awk"); err != nil {
		t.Skip("no awk on PATH (the Makefile reads template.yaml with it)")
	}
	args := []string{"-s"}
	if dry {
		args = append(args, "-n")
	}
	args = append(args, "build-"+id, "ARTIFACTS_DIR="+artifacts, "GOARCH="+callerGOARCH)
	if template != "" {
		args = append(args, "TEMPLATE="+template)
	}
	cmd := exec.Command(mk, args...)
	cmd.Dir = testkit.Root(t)
	cmd.Env = append(os.Environ(), "GOARCH="+callerGOARCH)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var goarchInRecipe = regexp.MustCompile(`\bGOARCH=(\w+) `)

// TestMakeBuildsTheTemplatesArch: sam build passes make no architecture,
// so build-<LogicalId> reads it from template.yaml — the function's own
// Architectures, else Globals' — whatever GOARCH the caller has.
func TestMakeBuildsTheTemplatesArch(t *testing.T) {
	t.Parallel() // a cross-compile; let the other tests run meanwhile
	r := testkit.Root(t)
	text := readFile(t, filepath.Join(r, "template.yaml"))
	tmpl, err := deploy.ParseSAM([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	dryArch := func(t *testing.T, id, template, caller string) string {
		t.Helper()
		out, err := makeBuild(t, id, template, "/nonexistent", caller, true)
		m := goarchInRecipe.FindStringSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("make -n build-%s: %v\n%s", id, err, out)
		}
		return m[1]
	}
	ids := tmpl.IDs(deploy.TypeFunction)
	for _, id := range ids {
		fn, err := tmpl.Function(id)
		if err != nil {
			t.Fatal(err)
		}
		archs := fn.Architectures()
		if len(archs) != 1 {
			t.Fatalf("%s: Architectures %v", id, archs)
		}
		for _, caller := range []string{"amd64", "arm64"} {
			if got := dryArch(t, id, "", caller); got != goarchOf[archs[0]] {
				t.Errorf("build-%s with GOARCH=%s exported builds GOARCH=%s; template.yaml says %s", id, caller, got, archs[0])
			}
		}
	}

	// The Makefile follows the template as it is edited.
	const globals = "    Architectures: [arm64]"
	const webhookProps = "      Description: Tencent and Yunxin call callbacks in, one stored event per delivery out\n"
	for _, c := range []struct {
		name, old, new string
		want           map[string]string // GOARCH by logical id; nil: make must fail
	}{
		{"Globals x86_64", globals, "    Architectures: [x86_64]",
			map[string]string{"WebhookFunction": "amd64", "StartCallFunction": "amd64"}},
		{"one function overrides, flow list", webhookProps, webhookProps + "      Architectures: [x86_64] # its own\n",
			map[string]string{"WebhookFunction": "amd64", "StartCallFunction": "arm64"}},
		{"one function overrides, block list", webhookProps, webhookProps + "      Architectures:\n        - \"x86_64\"\n",
			map[string]string{"WebhookFunction": "amd64", "RecordsFunction": "arm64"}},
		{"no architecture anywhere", globals, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(path, []byte(mutate(t, text, c.old, c.new)), 0o644); err != nil {
				t.Fatal(err)
			}
			if c.want == nil {
				out, err := makeBuild(t, "WebhookFunction", path, "/nonexistent", "arm64", true)
				if err == nil || !strings.Contains(out, "no Architectures") {
					t.Errorf("make -n build-WebhookFunction: %v, want a failure saying the template gives no Architectures:\n%s", err, out)
				}
				return
			}
			for id, want := range c.want {
				other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[want]
				if got := dryArch(t, id, path, other); got != want {
					t.Errorf("build-%s builds GOARCH=%s, want %s", id, got, want)
				}
			}
		})
	}

	// And a real build: the bootstrap's ELF header says the template's
	// architecture, with the other one exported.
	if testing.Short() {
		t.Log("-short: the real build is skipped")
		return
	}
	fn, _ := tmpl.Function("WebhookFunction")
	want := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "x86_64": elf.EM_X86_64}[fn.Architectures()[0]]
	caller := map[string]string{"arm64": "amd64", "x86_64": "arm64"}[fn.Architectures()[0]]
	artifacts := t.TempDir()
	if out, err := makeBuild(t, "WebhookFunction", "", artifacts, caller, false); err != nil {
		t.Fatalf("make build-WebhookFunction: %v\n%s", err, out)
	}
	f, err := elf.Open(filepath.Join(artifacts, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != want || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		t.Errorf("bootstrap built with GOARCH=%s exported is %v/%v, want %v (template.yaml)", caller, f.Machine, f.OSABI, want)
	}
}
