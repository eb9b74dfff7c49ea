package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"

	"github.com/callfn/callfn/shared/platform/awslambda"
)

// SAM resource types callfn's template uses.
const (
	TypeFunction = "AWS::Serverless::Function"
	TypeHttpApi  = "AWS::Serverless::HttpApi"
	TypeTable    = "AWS::DynamoDB::Table"
)

// Template is a SAM template with its intrinsics in long form.
type Template struct {
	Transform  any
	Parameters map[string]map[string]any
	Conditions map[string]any
	Globals    map[string]map[string]any
	Resources  map[string]Resource
	Outputs    map[string]map[string]any
}

// Resource is one entry of Resources.
type Resource struct {
	Type       string
	Properties map[string]any
	Metadata   map[string]any
}

// LoadSAM reads and parses a SAM template file.
func LoadSAM(path string) (*Template, error) { return parseFile(path, ParseSAM) }

// parseFile reads the file at path and parses it, naming path in a parse
// error.
func parseFile[T any](path string, parse func(data []byte) (T, error)) (T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := parse(data)
	if err != nil {
		return v, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// ParseSAM parses a SAM template.
func ParseSAM(data []byte) (*Template, error) {
	doc, err := DecodeCFN(data)
	if err != nil {
		return nil, err
	}
	t := &Template{
		Transform:  doc["Transform"],
		Parameters: mapOfMaps(doc["Parameters"]),
		Conditions: asMap(doc["Conditions"]),
		Globals:    mapOfMaps(doc["Globals"]),
		Outputs:    mapOfMaps(doc["Outputs"]),
		Resources:  map[string]Resource{},
	}
	for id, v := range asMap(doc["Resources"]) {
		m := asMap(v)
		typ, _ := m["Type"].(string)
		if typ == "" {
			return nil, fmt.Errorf("resource %s has no Type", id)
		}
		t.Resources[id] = Resource{Type: typ, Properties: asMap(m["Properties"]), Metadata: asMap(m["Metadata"])}
	}
	return t, nil
}

// IDs lists the logical ids of the resources of type typ, sorted.
func (t *Template) IDs(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Function is a SAM function as it deploys: Globals.Function overlaid with
// its own properties.
type Function struct {
	LogicalID  string
	Properties map[string]any // effective: Globals merged in
	Metadata   map[string]any
}

// Function returns the effective function id. goformation does not merge
// Globals, so this does, by SAM's rules: a function's own value replaces a
// global scalar, maps merge key by key (recursively), and lists add up,
// the global entries first.
func (t *Template) Function(id string) (*Function, error) {
	r, ok := t.Resources[id]
	if !ok || r.Type != TypeFunction {
		return nil, fmt.Errorf("no %s named %s", TypeFunction, id)
	}
	props := asMap(MergeGlobals(map[string]any(t.Globals["Function"]), r.Properties))
	return &Function{LogicalID: id, Properties: props, Metadata: r.Metadata}, nil
}

// MergeGlobals overlays local on global by SAM's Globals rules.
func MergeGlobals(global, local any) any {
	switch g := global.(type) {
	case map[string]any:
		l, ok := local.(map[string]any)
		if !ok {
			if local == nil {
				return g
			}
			return local
		}
		out := map[string]any{}
		for k, v := range g {
			out[k] = v
		}
		for k, v := range l {
			if gv, ok := g[k]; ok {
				out[k] = MergeGlobals(gv, v)
			} else {
				out[k] = v
			}
		}
		return out
	case []any:
		l, ok := local.([]any)
		if !ok {
			if local == nil {
				return g
			}
			return local
		}
		return append(slices.Clone(g), l...)
	}
	if local == nil {
		return global
	}
	return local
}

// String is a property that must be a plain string ("" when absent or not
// a string).
func (f *Function) String(name string) string {
	s, _ := f.Properties[name].(string)
	return s
}

// Architectures is the effective Architectures list (SAM's default is x86_64).
func (f *Function) Architectures() []string {
	v, ok := f.Properties["Architectures"].([]any)
	if !ok {
		return []string{"x86_64"}
	}
	var out []string
	for _, a := range v {
		s, _ := a.(string)
		out = append(out, s)
	}
	return out
}

// Environment is the effective Environment.Variables map.
func (f *Function) Environment() map[string]any {
	return asMap(asMap(f.Properties["Environment"])["Variables"])
}

// Event is one entry of a function's Events.
type Event struct {
	Name       string
	Type       string
	Properties map[string]any
}

// Events lists the function's events, sorted by name.
func (f *Function) Events() []Event {
	var out []Event
	for name, v := range asMap(f.Properties["Events"]) {
		m := asMap(v)
		typ, _ := m["Type"].(string)
		out = append(out, Event{Name: name, Type: typ, Properties: asMap(m["Properties"])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// HTTPRoutes is the routes the function's HttpApi and Api events declare.
func (f *Function) HTTPRoutes() []Route {
	var out []Route
	for _, ev := range f.Events() {
		if ev.Type != "HttpApi" && ev.Type != "Api" {
			continue
		}
		method, _ := ev.Properties["Method"].(string)
		path, _ := ev.Properties["Path"].(string)
		if method == "" && path == "" && ev.Type == "HttpApi" {
			method, path = "ANY", "$default"
		}
		out = append(out, NewRoute(method, path))
	}
	SortRoutes(out)
	return out
}

// ScheduledTime is EventBridge Scheduler's context attribute for the time a
// firing was scheduled for, which Scheduler substitutes in a target's Input.
const ScheduledTime = "<aws.scheduler.scheduled-time>"

// Schedule is one schedule event of a function (SAM ScheduleV2, an
// EventBridge Scheduler schedule, or Schedule, an EventBridge rule) and
// what the function receives when it fires.
type Schedule struct {
	Event      string // the event's name under Events
	Type       string // ScheduleV2 or Schedule
	Expression string // ScheduleExpression
	Enabled    bool   // State ENABLED (the default), or a classic rule's Enabled
	// EnabledIf names the template condition under which an Enabled
	// schedule is enabled (State: !If [COND, ENABLED, DISABLED]); "" when
	// it is unconditional.
	EnabledIf string
	// Input is the event's Input as written ("" when there is none: a
	// classic rule then sends its Scheduled Event).
	Input string
	// Envelope is Input as the Lambda adapter reads it; nil without Input.
	Envelope *awslambda.SchedulerInput
}

// Schedules lists the function's schedule events, sorted by event name.
// An Input that is not the Lambda adapter's envelope (decoded strictly:
// no other field), a State that is neither ENABLED nor DISABLED, or a
// missing ScheduleExpression is an error.
func (f *Function) Schedules() ([]Schedule, error) {
	var out []Schedule
	for _, ev := range f.Events() {
		if ev.Type != "ScheduleV2" && ev.Type != "Schedule" {
			continue
		}
		s := Schedule{Event: ev.Name, Type: ev.Type, Enabled: true}
		s.Expression, _ = ev.Properties["ScheduleExpression"].(string)
		if s.Expression == "" {
			return nil, fmt.Errorf("schedule %s has no ScheduleExpression", ev.Name)
		}
		switch st := ev.Properties["State"].(type) {
		case nil:
		case string:
			if st != "ENABLED" && st != "DISABLED" {
				return nil, fmt.Errorf("schedule %s: State %q, want ENABLED or DISABLED", ev.Name, st)
			}
			s.Enabled = st == "ENABLED"
		case map[string]any:
			args, _ := st["Fn::If"].([]any)
			cond, _ := func() (string, bool) {
				if len(args) != 3 || len(st) != 1 {
					return "", false
				}
				c, ok := args[0].(string)
				return c, ok
			}()
			if cond == "" || args[1] != "ENABLED" || args[2] != "DISABLED" {
				return nil, fmt.Errorf("schedule %s: State %v: want ENABLED, DISABLED or !If [CONDITION, ENABLED, DISABLED]", ev.Name, st)
			}
			s.EnabledIf = cond
		default:
			return nil, fmt.Errorf("schedule %s: State %v is not a string", ev.Name, st)
		}
		if en, ok := ev.Properties["Enabled"]; ok { // a classic rule's older switch
			b, isBool := en.(bool)
			if !isBool || ev.Type != "Schedule" {
				return nil, fmt.Errorf("schedule %s: Enabled %v: ScheduleV2 takes State; Schedule takes a boolean", ev.Name, en)
			}
			s.Enabled = s.Enabled && b
		}
		switch in := ev.Properties["Input"].(type) {
		case nil:
		case string:
			s.Input = in
			env, err := DecodeSchedulerInput([]byte(in))
			if err != nil {
				return nil, fmt.Errorf("schedule %s: Input: %w", ev.Name, err)
			}
			s.Envelope = &env
		default:
			return nil, fmt.Errorf("schedule %s: Input must be a string holding JSON, not %T", ev.Name, in)
		}
		out = append(out, s)
	}
	return out, nil
}

// DecodeSchedulerInput decodes the envelope the Lambda adapter takes from
// EventBridge Scheduler, refusing any field it does not know and an
// envelope that names no schedule.
func DecodeSchedulerInput(data []byte) (awslambda.SchedulerInput, error) {
	var in awslambda.SchedulerInput
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&in); err != nil {
		return in, err
	}
	if d.More() {
		return in, fmt.Errorf("more than one JSON value")
	}
	if in.Schedule == "" {
		return in, fmt.Errorf("the envelope names no schedule")
	}
	return in, nil
}

// Policies is the function's Policies, always as a list.
func (f *Function) Policies() []any {
	switch p := f.Properties["Policies"].(type) {
	case []any:
		return p
	case nil:
		return nil
	default:
		return []any{p}
	}
}

// Ref returns X for {"Ref": X}.
func Ref(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	s, ok := m["Ref"].(string)
	return s, ok
}

// Sub returns the template string of {"Fn::Sub": S} (or of the list form).
func Sub(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	switch s := m["Fn::Sub"].(type) {
	case string:
		return s, true
	case []any:
		if len(s) > 0 {
			str, ok := s[0].(string)
			return str, ok
		}
	}
	return "", false
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func mapOfMaps(v any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for k, x := range asMap(v) {
		out[k] = asMap(x)
	}
	return out
}
