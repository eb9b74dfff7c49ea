package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callfn/callfn/testkit"
)

// TestTemplateCfnLint runs cfn-lint (the Python one, which translates SAM
// with aws-sam-translator and checks the CloudFormation it yields against
// the resource schemas) over template.yaml, and over a broken copy to show
// it is really checking. Skipped where cfn-lint is not installed.
func TestTemplateCfnLint(t *testing.T) {
	t.Parallel() // a few seconds of Python; let the other tests run meanwhile
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		requireLinters(t, "cfn-lint (not on PATH)")
	}
	if v, err := exec.Command(lint, "--version").CombinedOutput(); err == nil {
		t.Logf("%s", strings.TrimSpace(string(v)))
	}
	r := testkit.Root(t)
	run := func(path string) (string, error) {
		out, err := exec.Command(lint, "--format", "parseable", path).CombinedOutput()
		return string(out), err
	}
	if out, err := run(filepath.Join(r, "template.yaml")); err != nil {
		t.Errorf("cfn-lint template.yaml: %v\n%s", err, out)
	}
	broken := mutate(t, readFile(t, filepath.Join(r, "template.yaml")), "- AttributeName: gsi1sk\n          AttributeType: S\n", "- AttributeName: gsi1sk\n          AttributeType: STRING\n")
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(path); err == nil || !strings.Contains(out, "STRING") {
		t.Errorf("cfn-lint passed a template with an AttributeType STRING (err %v):\n%s", err, out)
	}
}
