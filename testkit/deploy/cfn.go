// Package deploy reads callfn's deployment descriptors as what they are —
// template.yaml as an AWS SAM template (functions, routes, schedules), each
// serverless.yml (the top-level one, the webhook's, and deploy/scf/*/) as a
// Tencent Serverless Cloud Framework `scf` component instance (one function,
// its API gateway and timer triggers) — and the sample trigger events under
// events/ (API gateway requests and schedule firings), so that tests can
// hold them against the code.
package deploy

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// intrinsics maps CloudFormation's short-form YAML tags to the long-form
// keys they abbreviate (!Ref X is {"Ref": X}, !Sub S is {"Fn::Sub": S}).
var intrinsics = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!Base64":       "Fn::Base64",
	"!Cidr":         "Fn::Cidr",
	"!FindInMap":    "Fn::FindInMap",
	"!GetAtt":       "Fn::GetAtt",
	"!GetAZs":       "Fn::GetAZs",
	"!ImportValue":  "Fn::ImportValue",
	"!Join":         "Fn::Join",
	"!Length":       "Fn::Length",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!Sub":          "Fn::Sub",
	"!ToJsonString": "Fn::ToJsonString",
	"!Transform":    "Fn::Transform",
	"!And":          "Fn::And",
	"!Equals":       "Fn::Equals",
	"!If":           "Fn::If",
	"!Not":          "Fn::Not",
	"!Or":           "Fn::Or",
}

// DecodeCFN parses a CloudFormation (or SAM) YAML template into plain Go
// values (map[string]any, []any, string, int, float64, bool), with every
// short-form intrinsic in its long form. An unknown local tag is an error.
func DecodeCFN(data []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if err := longForm(&doc); err != nil {
		return nil, err
	}
	var out map[string]any
	if err := doc.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// longForm rewrites, in place, every node tagged with a short-form
// intrinsic into a one-key mapping holding the untagged node.
func longForm(n *yaml.Node) error {
	for _, c := range n.Content {
		if err := longForm(c); err != nil {
			return err
		}
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return nil
	}
	key, ok := intrinsics[n.Tag]
	if !ok {
		return fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	val := *n
	switch val.Kind {
	case yaml.ScalarNode:
		val.Tag = "!!str"
		if key == "Fn::GetAtt" { // !GetAtt Res.Attr is {"Fn::GetAtt": ["Res", "Attr"]}
			res, attr, found := strings.Cut(val.Value, ".")
			if !found {
				return fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, val.Value)
			}
			val = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{
				{Kind: yaml.ScalarNode, Tag: "!!str", Value: res},
				{Kind: yaml.ScalarNode, Tag: "!!str", Value: attr},
			}}
		}
	case yaml.SequenceNode:
		val.Tag = "!!seq"
	case yaml.MappingNode:
		val.Tag = "!!map"
	default:
		return fmt.Errorf("line %d: %s on an unexpected node", n.Line, n.Tag)
	}
	val.Style &^= yaml.TaggedStyle
	*n = yaml.Node{
		Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column,
		Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, &val},
	}
	return nil
}
