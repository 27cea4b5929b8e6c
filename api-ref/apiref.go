// Package apiref holds the OpenAPI 3.1 description of the vnfpkgm HTTP API
// (openapi.yaml, embedded as OpenAPI, served by the server at
// /api-ref/openapi.yaml) and checks HTTP responses against it, so that tests
// keep the description and the server in step.
//
// Schemas are JSON Schema draft 2020-12, the dialect of OpenAPI 3.1. As in
// that draft, "format" is an annotation: Validate does not assert it (the
// tests check the formats that matter, such as absolute link URIs, on their
// own).
package apiref

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// OpenAPI is the OpenAPI 3.1 document, in YAML.
//
//go:embed openapi.yaml
var OpenAPI []byte

// MediaType is the Content-Type OpenAPI is served with (RFC 9512).
const MediaType = "application/yaml"

// baseURI names the document for the schema compiler; every $ref of the
// document is local, so nothing is ever fetched from it.
const baseURI = "https://vnfpkgm.invalid/api-ref/openapi.yaml"

// methods are the HTTP methods an OpenAPI path item may describe, in the
// order the specification lists them.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// document is a parsed OpenAPI document and the schemas compiled from it.
type document struct {
	root     map[string]any
	compiler *jsonschema.Compiler

	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema // by JSON pointer
}

var embedded = sync.OnceValues(func() (*document, error) { return parse(OpenAPI) })

// parse reads an OpenAPI document in YAML. Every mapping key must be a
// string, as in JSON (quote status codes: '200').
func parse(data []byte) (*document, error) {
	var y any
	if err := yaml.Unmarshal(data, &y); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	v, err := jsonValue(y, "")
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	// Reading it back through the validator's decoder gives the number
	// representation the validator expects.
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("openapi.yaml: the document is not an object")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(baseURI, doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return &document{root: root, compiler: c, schemas: map[string]*jsonschema.Schema{}}, nil
}

// jsonValue converts what yaml.v3 decodes into JSON values, refusing
// mapping keys that are not strings.
func jsonValue(v any, at string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := jsonValue(e, at+"/"+escapeToken(k))
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case map[any]any:
		for k := range x {
			if _, ok := k.(string); !ok {
				return nil, fmt.Errorf("at %q: mapping key %v is a %T, not a string (quote it)", at, k, k)
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := jsonValue(e, at+"/"+escapeToken(k.(string)))
			if err != nil {
				return nil, err
			}
			out[k.(string)] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := jsonValue(e, at+"/"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case nil, bool, string, int, int64, uint64, float64:
		return x, nil
	}
	return nil, fmt.Errorf("at %q: a %T is not a JSON value", at, v)
}

// escapeToken escapes a JSON pointer token (RFC 6901).
func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// pointer is a JSON pointer held as its unescaped tokens.
type pointer []string

func (p pointer) String() string {
	var b strings.Builder
	for _, t := range p {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return b.String()
}

func (p pointer) add(tokens ...string) pointer {
	return append(append(pointer(nil), p...), tokens...)
}

// parseRef reads a local reference "#/a/b~1c".
func parseRef(ref string) (pointer, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not local to the document", ref)
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return nil, fmt.Errorf("$ref %q: %w", ref, err)
	}
	if frag == "" {
		return pointer{}, nil
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, fmt.Errorf("$ref %q is not a JSON pointer", ref)
	}
	var p pointer
	for _, t := range strings.Split(frag[1:], "/") {
		p = append(p, strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~"))
	}
	return p, nil
}

// lookup returns the value at p.
func (d *document) lookup(p pointer) (any, error) {
	var v any = d.root
	for i, t := range p {
		switch x := v.(type) {
		case map[string]any:
			e, ok := x[t]
			if !ok {
				return nil, fmt.Errorf("%s does not exist", p[:i+1])
			}
			v = e
		case []any:
			n, err := strconv.Atoi(t)
			if err != nil || n < 0 || n >= len(x) {
				return nil, fmt.Errorf("%s does not exist", p[:i+1])
			}
			v = x[n]
		default:
			return nil, fmt.Errorf("%s does not exist", p[:i+1])
		}
	}
	return v, nil
}

// object returns the object at p, following a Reference Object ({"$ref"})
// there, and the pointer it was finally found at.
func (d *document) object(p pointer) (map[string]any, pointer, error) {
	for range 16 {
		v, err := d.lookup(p)
		if err != nil {
			return nil, nil, err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, nil, fmt.Errorf("%s is not an object", p)
		}
		ref, isRef := m["$ref"].(string)
		if !isRef {
			return m, p, nil
		}
		if p, err = parseRef(ref); err != nil {
			return nil, nil, err
		}
	}
	return nil, nil, fmt.Errorf("%s: too many $ref hops", p)
}

// schema compiles (once) the JSON schema at p.
func (d *document) schema(p pointer) (*jsonschema.Schema, error) {
	key := p.String()
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.schemas[key]; ok {
		return s, nil
	}
	var frag strings.Builder
	for _, t := range p {
		frag.WriteByte('/')
		frag.WriteString(url.PathEscape(escapeToken(t)))
	}
	s, err := d.compiler.Compile(baseURI + "#" + frag.String())
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", key, err)
	}
	d.schemas[key] = s
	return s, nil
}

// response finds the Response Object documented for status on method of
// pathTemplate, and its pointer. A method the path item does not have is
// documented by the document's x-method-not-allowed response (405), or for
// OPTIONS by x-options (204).
func (d *document) response(method, pathTemplate string, status int) (map[string]any, pointer, error) {
	what := fmt.Sprintf("%s %s", method, pathTemplate)
	paths, _ := d.root["paths"].(map[string]any)
	if _, ok := paths[pathTemplate]; !ok {
		return nil, nil, fmt.Errorf("%s: the path is not documented", what)
	}
	m := strings.ToLower(method)
	item, _, err := d.object(pointer{"paths", pathTemplate})
	if err != nil {
		return nil, nil, err
	}
	if _, ok := item[m].(map[string]any); !ok {
		// The answers to methods a path does not list are the same on
		// every path: the document names them once.
		ext := "x-method-not-allowed"
		switch {
		case m == "options" && status == http.StatusNoContent:
			ext = "x-options"
		case status != http.StatusMethodNotAllowed:
			return nil, nil, fmt.Errorf("%s: the method is not documented for this path, so only 405 may answer it, not %d", what, status)
		}
		if _, ok := d.root[ext]; !ok {
			return nil, nil, fmt.Errorf("%s: the document has no %s response", what, ext)
		}
		return d.object(pointer{ext})
	}
	rp := pointer{"paths", pathTemplate, m, "responses"}
	responses, _, err := d.object(rp)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	code := strconv.Itoa(status)
	for _, key := range []string{code, code[:1] + "XX", "default"} {
		if _, ok := responses[key]; ok {
			return d.object(rp.add(key))
		}
	}
	documented := make([]string, 0, len(responses))
	for k := range responses {
		documented = append(documented, k)
	}
	sort.Strings(documented)
	return nil, nil, fmt.Errorf("%s: status %d is not documented (documented: %s)", what, status, strings.Join(documented, ", "))
}

// isJSON reports whether a media type is JSON or a +json type.
func isJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// Validate checks a response against the document: status must be
// documented for method on pathTemplate (the key of the document's paths,
// e.g. "/vnfpkgm/v1/vnf_packages/{vnfPkgId}"), contentType (the response's
// Content-Type header) must be one of the media types documented for it, and
// a JSON body (application/json or any +json type) must satisfy its schema.
// A response documented without content must have an empty body; a HEAD
// response never has one. A method the path does not have may only answer
// 405 (the document's x-method-not-allowed response), or 204 to OPTIONS
// (x-options).
func Validate(method, pathTemplate string, status int, contentType string, body []byte) error {
	d, err := embedded()
	if err != nil {
		return err
	}
	return d.validate(method, pathTemplate, status, contentType, body)
}

func (d *document) validate(method, pathTemplate string, status int, contentType string, body []byte) error {
	resp, rp, err := d.response(method, pathTemplate, status)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%s %s %d", method, pathTemplate, status)
	head := strings.EqualFold(method, http.MethodHead)
	if head && len(body) > 0 {
		return fmt.Errorf("%s: a HEAD response has a body (%d bytes)", what, len(body))
	}
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) > 0 {
			return fmt.Errorf("%s: documented without content, but the body has %d bytes (Content-Type %q)", what, len(body), contentType)
		}
		return nil
	}
	if contentType == "" {
		return fmt.Errorf("%s: no Content-Type; documented: %s", what, strings.Join(keys(content), ", "))
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("%s: Content-Type %q: %w", what, contentType, err)
	}
	key := ""
	for _, k := range []string{mt, strings.SplitN(mt, "/", 2)[0] + "/*", "*/*"} {
		if _, ok := content[k]; ok {
			key = k
			break
		}
	}
	if key == "" {
		return fmt.Errorf("%s: Content-Type %q is not documented; documented: %s", what, contentType, strings.Join(keys(content), ", "))
	}
	if head || !isJSON(mt) {
		return nil
	}
	media, _ := content[key].(map[string]any)
	if _, ok := media["schema"]; !ok {
		return nil
	}
	sch, err := d.schema(rp.add("content", key, "schema"))
	if err != nil {
		return err
	}
	return validateJSON(what, sch, body)
}

func validateJSON(what string, sch *jsonschema.Schema, body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("%s: the JSON body is empty", what)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: the body is not JSON: %w", what, err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%s: the body does not match its schema: %w", what, err)
	}
	return nil
}

// ValidateSchema checks a JSON document against the schema of that name in
// components/schemas.
func ValidateSchema(name string, body []byte) error {
	d, err := embedded()
	if err != nil {
		return err
	}
	sch, err := d.schema(pointer{"components", "schemas", name})
	if err != nil {
		return err
	}
	return validateJSON("schema "+name, sch, body)
}

// CheckHeaders checks the headers of a response against those documented for
// it (see Validate for how the response is found): every required header
// must be present, and every documented header present must match its
// schema.
func CheckHeaders(method, pathTemplate string, status int, h http.Header) error {
	d, err := embedded()
	if err != nil {
		return err
	}
	return d.checkHeaders(method, pathTemplate, status, h)
}

func (d *document) checkHeaders(method, pathTemplate string, status int, h http.Header) error {
	resp, rp, err := d.response(method, pathTemplate, status)
	if err != nil {
		return err
	}
	headers, _ := resp["headers"].(map[string]any)
	var errs []error
	for _, name := range keys(headers) {
		hdr, hp, err := d.object(rp.add("headers", name))
		if err != nil {
			return err
		}
		values := h.Values(name)
		if len(values) == 0 {
			if req, _ := hdr["required"].(bool); req {
				errs = append(errs, fmt.Errorf("header %s is missing", name))
			}
			continue
		}
		if _, ok := hdr["schema"]; !ok {
			continue
		}
		sch, err := d.schema(hp.add("schema"))
		if err != nil {
			return err
		}
		for _, v := range values {
			if err := sch.Validate(v); err != nil {
				errs = append(errs, fmt.Errorf("header %s: %q: %w", name, v, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s %s %d: %w", method, pathTemplate, status, errors.Join(errs...))
	}
	return nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
