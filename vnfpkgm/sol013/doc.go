// Package sol013 holds the plumbing that ETSI GS NFV-SOL 013 defines for every
// RESTful NFV-MANO API and that every resource of this server shares:
//
//   - attribute-based filtering (clause 5.2): [ParseFilter], [LegacyFilter],
//     [FilterFromQuery], [Filter.Match], [Filter.Validate] against a [Schema];
//   - attribute selectors (clause 5.3): [ParseSelector], [Selector.Apply];
//   - paging with an opaque marker (clause 5.4): [EncodeMarker], [DecodeMarker],
//     [NextLink];
//   - error reporting with ProblemDetails (clause 6.4, IETF RFC 7807):
//     [ProblemDetails], [NewProblem], [HTTPErrorHandler];
//   - the "Version" HTTP header (clause 9.1): [Version];
//   - tolerance of a doubled slash after the host: [CollapseLeadingSlashes].
//
// # Query strings and ';'
//
// A filter joins its terms with ';'. Go's net/url (and so echo's
// Context.QueryParams and http.Request.URL.Query) no longer treats ';' as a
// separator but silently drops every key=value pair that contains a raw ';'.
// A client that percent-encodes the filter (%3B) is unaffected, but one that
// sends "?filter=(eq,a,b);(eq,c,d)" literally would have its filter ignored
// and get every resource back. Handlers should therefore read the query with
// [ParseQuery], which splits on '&' only.
//
// The package imports nothing else from this repository.
package sol013
