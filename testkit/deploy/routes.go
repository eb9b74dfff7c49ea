package deploy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/callfn/callfn/shared/platform"
)

// Route is one HTTP route as a deployment descriptor declares it: an upper
// case method ("ANY" for every method) and an API gateway path, whose
// parameters are {name}, and {name+} for a greedy one.
type Route struct {
	Method string
	Path   string
}

func (r Route) String() string { return r.Method + " " + r.Path }

// NewRoute normalizes a method and path as a descriptor spells them.
func NewRoute(method, path string) Route {
	return Route{Method: strings.ToUpper(strings.TrimSpace(method)), Path: strings.TrimSpace(path)}
}

// RoutesOf is the routes fn serves, in the descriptors' spelling: a
// net/http pattern "POST /calls/{callId}/end" is POST /calls/{callId}/end,
// a {rest...} wildcard is {rest+}, a trailing {$} is dropped, and a pattern
// without a method is ANY. Patterns naming a host are refused.
func RoutesOf(fn platform.Function) ([]Route, error) {
	var out []Route
	for _, rt := range fn.Routes {
		method, path, found := strings.Cut(strings.TrimSpace(rt.Pattern), " ")
		if !found {
			method, path = "ANY", method
		}
		path = strings.TrimSpace(path)
		if !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("%s: route %q names a host or has no path", fn.Name, rt.Pattern)
		}
		path = strings.TrimSuffix(path, "{$}")
		path = strings.ReplaceAll(path, "...}", "+}")
		out = append(out, NewRoute(method, path))
	}
	SortRoutes(out)
	return out, nil
}

// SortRoutes orders routes by path, then method.
func SortRoutes(rs []Route) {
	slices.SortFunc(rs, func(a, b Route) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
}

// DiffRoutes reports what declared lacks of served and what it declares
// that is not served, and any route declared twice.
func DiffRoutes(served, declared []Route) (missing, extra, twice []Route) {
	seen := map[Route]int{}
	for _, r := range declared {
		seen[r]++
		if seen[r] == 2 {
			twice = append(twice, r)
		}
	}
	want := map[Route]bool{}
	for _, r := range served {
		want[r] = true
		if seen[r] == 0 {
			missing = append(missing, r)
		}
	}
	for _, r := range declared {
		if !want[r] && seen[r] > 0 {
			extra = append(extra, r)
			seen[r] = 0
		}
	}
	return missing, extra, twice
}
