package forward

import "net/url"

// Display names an endpoint for people (callfn deliveries, GET
// /records/{callId}): its scheme, host and path, without the query, which
// may carry a token. Logs and errors use less still: scheme and host.
func Display(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "?"
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.User = "", false, "", nil
	return u.String()
}
