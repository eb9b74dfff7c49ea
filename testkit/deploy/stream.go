package deploy

import "fmt"

// TypeEventSourceMapping is a Lambda event source mapping: a stream into a
// function.
const TypeEventSourceMapping = "AWS::Lambda::EventSourceMapping"

// StreamMapping is an event source mapping of the template.
type StreamMapping struct {
	ID         string
	Properties map[string]any
}

// StreamMappings lists the event source mappings into function id (those
// whose FunctionName is !Ref id), sorted by logical id.
func (t *Template) StreamMappings(id string) []StreamMapping {
	var out []StreamMapping
	for _, rid := range t.IDs(TypeEventSourceMapping) {
		props := t.Resources[rid].Properties
		if ref, ok := Ref(props["FunctionName"]); ok && ref == id {
			out = append(out, StreamMapping{ID: rid, Properties: props})
		}
	}
	return out
}

// FilterPatterns are the mapping's FilterCriteria patterns (any one of
// them lets a record through; none lets every record through).
func (m StreamMapping) FilterPatterns() ([]string, error) {
	var out []string
	fc := asMap(m.Properties["FilterCriteria"])
	fs, _ := fc["Filters"].([]any)
	for _, f := range fs {
		p, ok := asMap(f)["Pattern"].(string)
		if !ok {
			return nil, fmt.Errorf("%s: a filter without a Pattern string", m.ID)
		}
		out = append(out, p)
	}
	return out, nil
}

// GetAtt returns (resource, attribute) for {"Fn::GetAtt": [R, A]} (or the
// "R.A" string form).
func GetAtt(v any) (string, string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", "", false
	}
	switch g := m["Fn::GetAtt"].(type) {
	case []any:
		if len(g) == 2 {
			r, ok1 := g[0].(string)
			a, ok2 := g[1].(string)
			return r, a, ok1 && ok2
		}
	case string:
		for i := range g {
			if g[i] == '.' {
				return g[:i], g[i+1:], true
			}
		}
	}
	return "", "", false
}
