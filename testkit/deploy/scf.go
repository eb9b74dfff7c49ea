package deploy

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// SCFInstance is one Serverless Cloud Framework component instance — a
// serverless.yml with `component: scf` — which deploys one SCF function and
// its triggers (serverless-components/tencent-scf, docs/configure.md).
type SCFInstance struct {
	App       string    `yaml:"app"`
	Stage     string    `yaml:"stage"`
	Component string    `yaml:"component"`
	Name      string    `yaml:"name"`
	Inputs    SCFInputs `yaml:"inputs"`
}

// SCFInputs is the scf component's inputs: the function and its events.
type SCFInputs struct {
	Name        string         `yaml:"name"`
	Type        string         `yaml:"type"` // "event" (the default) or "web"
	Src         SCFSrc         `yaml:"src"`
	Handler     string         `yaml:"handler"`
	Runtime     string         `yaml:"runtime"`
	Region      string         `yaml:"region"`
	MemorySize  int            `yaml:"memorySize"`
	Timeout     int            `yaml:"timeout"`
	Environment SCFEnvironment `yaml:"environment"`
	Events      []SCFEvent     `yaml:"events"`
}

// SCFSrc is the code: a local directory the CLI zips, or a COS object.
// The component takes either a bare path or an object.
type SCFSrc struct {
	Src     string   `yaml:"src"`
	Exclude []string `yaml:"exclude"`
	Bucket  string   `yaml:"bucket"`
	Object  string   `yaml:"object"`
}

// UnmarshalYAML accepts `src: ./dir` as well as `src: {src: ./dir}`.
func (s *SCFSrc) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s.Src = n.Value
		return nil
	}
	type plain SCFSrc
	return n.Decode((*plain)(s))
}

// SCFEnvironment is `environment: {variables: {NAME: value}}`.
type SCFEnvironment struct {
	Variables map[string]string `yaml:"variables"`
}

// SCFEvent is one entry of events: a single key naming the trigger type
// (apigw, timer, cos, ...) over its configuration.
type SCFEvent struct {
	Type       string
	Name       string         `yaml:"name"`
	Parameters map[string]any `yaml:"parameters"`
}

// UnmarshalYAML reads `- apigw: {name, parameters}`.
func (e *SCFEvent) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return fmt.Errorf("line %d: an event is a mapping with one key, the trigger type", n.Line)
	}
	e.Type = n.Content[0].Value
	var body struct {
		Name       string         `yaml:"name"`
		Parameters map[string]any `yaml:"parameters"`
	}
	if err := n.Content[1].Decode(&body); err != nil {
		return err
	}
	e.Name, e.Parameters = body.Name, body.Parameters
	return nil
}

// SCFEndpoint is one API of an apigw event.
type SCFEndpoint struct {
	Path                 string
	Method               string
	IsIntegratedResponse bool
	PathParams           []string // the names of its param entries whose position is PATH
}

// LoadSCF reads and parses a serverless.yml.
func LoadSCF(path string) (*SCFInstance, error) { return parseFile(path, ParseSCF) }

// ParseSCF parses a serverless.yml of the scf component.
func ParseSCF(data []byte) (*SCFInstance, error) {
	var s SCFInstance
	if err := yaml.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Endpoints lists the APIs of every apigw event.
func (in *SCFInputs) Endpoints() ([]SCFEndpoint, error) {
	var out []SCFEndpoint
	for _, ev := range in.Events {
		if ev.Type != "apigw" {
			continue
		}
		eps, ok := ev.Parameters["endpoints"].([]any)
		if !ok {
			return nil, fmt.Errorf("apigw event %q has no endpoints list", ev.Name)
		}
		for i, e := range eps {
			m := asMap(e)
			path, _ := m["path"].(string)
			method, _ := m["method"].(string)
			if path == "" {
				return nil, fmt.Errorf("apigw event %q endpoint %d has no path", ev.Name, i)
			}
			integrated, _ := asMap(m["function"])["isIntegratedResponse"].(bool)
			ep := SCFEndpoint{Path: path, Method: method, IsIntegratedResponse: integrated}
			params, _ := m["param"].([]any)
			for _, prm := range params {
				pm := asMap(prm)
				name, _ := pm["name"].(string)
				if pos, _ := pm["position"].(string); strings.EqualFold(pos, "PATH") && name != "" {
					ep.PathParams = append(ep.PathParams, name)
				}
			}
			out = append(out, ep)
		}
	}
	return out, nil
}

// HTTPRoutes is the routes the apigw events declare (a method left out is
// ANY, as on the gateway).
func (in *SCFInputs) HTTPRoutes() ([]Route, error) {
	eps, err := in.Endpoints()
	if err != nil {
		return nil, err
	}
	var out []Route
	for _, e := range eps {
		m := e.Method
		if m == "" {
			m = "ANY"
		}
		out = append(out, NewRoute(m, e.Path))
	}
	SortRoutes(out)
	return out, nil
}

// SCFTimer is one timer trigger (SCF's timer trigger, as the scf
// component's docs/configure.md configures it).
type SCFTimer struct {
	// Name is the trigger's name (parameters.name, else the event's name),
	// the TriggerName of its events; "" when neither is set (the component
	// then makes one up).
	Name     string
	Cron     string // cronExpression: SCF's seven fields
	Enabled  bool   // enable; false when left out, as the component documents
	Argument string // argument: the timer event's Message; "" when none
}

// Timers lists the timer triggers. An argument that is not a string (SCF's
// CustomArgument is one), or an enable that is not a boolean, is an error.
func (in *SCFInputs) Timers() ([]SCFTimer, error) {
	var out []SCFTimer
	for _, ev := range in.Events {
		if ev.Type != "timer" {
			continue
		}
		t := SCFTimer{Name: ev.Name}
		if n, ok := ev.Parameters["name"].(string); ok && n != "" {
			t.Name = n
		}
		t.Cron, _ = ev.Parameters["cronExpression"].(string)
		switch en := ev.Parameters["enable"].(type) {
		case nil:
		case bool:
			t.Enabled = en
		default:
			return nil, fmt.Errorf("timer %q: enable %v is not a boolean", t.Name, en)
		}
		switch a := ev.Parameters["argument"].(type) {
		case nil:
		case string:
			t.Argument = a
		default:
			return nil, fmt.Errorf("timer %q: argument must be a string (SCF passes it as the event's Message), not %T", t.Name, a)
		}
		out = append(out, t)
	}
	return out, nil
}

// EventTypes lists the trigger types declared, sorted.
func (in *SCFInputs) EventTypes() []string {
	var out []string
	for _, ev := range in.Events {
		out = append(out, ev.Type)
	}
	sort.Strings(out)
	return out
}
