package deploy

import (
	"encoding/json"
	"fmt"
	"strings"
)

// MatchFilter reports whether event (a record as Lambda sees it, JSON)
// matches pattern, a Lambda event filter (FilterCriteria.Filters[].Pattern,
// EventBridge's pattern syntax): every key of the pattern must match;
// a leaf is a list of alternatives, each a literal (string, number, true,
// false, null) or one of {"prefix": S}, {"suffix": S},
// {"equals-ignore-case": S}, {"anything-but": V or [V...]},
// {"exists": B}. Other operators are an error, so that a test cannot pass
// on a pattern it does not understand. An event value that is a list
// matches when any element does.
func MatchFilter(pattern string, event []byte) (bool, error) {
	var p map[string]any
	if err := json.Unmarshal([]byte(pattern), &p); err != nil {
		return false, fmt.Errorf("filter pattern: %w", err)
	}
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return false, fmt.Errorf("event: %w", err)
	}
	return matchObject(p, ev)
}

func matchObject(p, ev map[string]any) (bool, error) {
	for k, pv := range p {
		v, present := ev[k]
		switch pv := pv.(type) {
		case map[string]any:
			sub, ok := v.(map[string]any)
			if !present || !ok {
				return false, nil
			}
			m, err := matchObject(pv, sub)
			if err != nil || !m {
				return false, err
			}
		case []any:
			m, err := matchLeaf(pv, v, present)
			if err != nil || !m {
				return false, err
			}
		default:
			return false, fmt.Errorf("pattern key %q: want an object or a list of alternatives, got %v", k, pv)
		}
	}
	return true, nil
}

// matchLeaf matches one event value (present or not) against a list of
// alternatives.
func matchLeaf(alts []any, v any, present bool) (bool, error) {
	for _, alt := range alts {
		for name := range asMap(alt) {
			switch name {
			case "exists", "prefix", "suffix", "equals-ignore-case", "anything-but":
			default:
				return false, fmt.Errorf("filter operator %q is not supported here", name)
			}
		}
	}
	values := []any{v}
	if l, ok := v.([]any); ok {
		values = l
	}
	for _, alt := range alts {
		if op, ok := alt.(map[string]any); ok {
			if len(op) != 1 {
				return false, fmt.Errorf("an operator object holds one operator: %v", op)
			}
			if e, ok := op["exists"]; ok {
				b, isBool := e.(bool)
				if !isBool {
					return false, fmt.Errorf("exists wants true or false: %v", e)
				}
				if present == b {
					return true, nil
				}
				continue
			}
		}
		if !present {
			continue
		}
		for _, x := range values {
			m, err := matchOne(alt, x)
			if err != nil {
				return false, err
			}
			if m {
				return true, nil
			}
		}
	}
	return false, nil
}

func matchOne(alt, x any) (bool, error) {
	op, isOp := alt.(map[string]any)
	if !isOp {
		return literal(alt, x), nil
	}
	for name, arg := range op {
		s, _ := x.(string)
		_, isString := x.(string)
		switch name {
		case "prefix", "suffix", "equals-ignore-case":
			a, ok := arg.(string)
			if !ok {
				return false, fmt.Errorf("%s wants a string: %v", name, arg)
			}
			switch {
			case !isString:
				return false, nil
			case name == "prefix":
				return strings.HasPrefix(s, a), nil
			case name == "suffix":
				return strings.HasSuffix(s, a), nil
			default:
				return strings.EqualFold(s, a), nil
			}
		case "anything-but":
			not := []any{arg}
			if l, ok := arg.([]any); ok {
				not = l
			}
			for _, n := range not {
				if _, nested := n.(map[string]any); nested {
					return false, fmt.Errorf("anything-but with an operator is not supported here: %v", n)
				}
				if literal(n, x) {
					return false, nil
				}
			}
			return true, nil
		default:
			return false, fmt.Errorf("filter operator %q is not supported here", name)
		}
	}
	return false, nil
}

// literal compares a pattern literal with an event value: strings and
// booleans exactly, numbers by value, null with null.
func literal(a, x any) bool {
	switch a := a.(type) {
	case nil:
		return x == nil
	case float64:
		n, ok := x.(float64)
		return ok && n == a
	default:
		return a == x
	}
}
