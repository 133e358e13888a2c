// Package openapitest holds the API's real answers to openapi.yaml, the
// OpenAPI 3.1 description in the repository root, so that the description
// cannot drift from the code. It is imported by tests only.
//
//	spec := openapitest.Load(t) // fails t if openapi.yaml is not a valid description
//	resp, _ := h.Handle(ctx, ev)
//	if err := spec.CheckEvent(ev, resp); err != nil {
//		t.Error(err)
//	}
//	err := spec.Check("GET", "/v1/intercom/user-hash", status, header, body) // an HTTP answer
//
// A check validates the status (it must be documented for the method and
// path), the Content-Type, the body against its schema (JSON Schema 2020-12)
// and the response headers; and, beyond what OpenAPI can say, that every
// answer of the function (application/problem+json) carries the headers the
// description marks x-always-from-function, which API Gateway's own answers
// to the same status lack.
package openapitest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// File is the path of openapi.yaml.
func File() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "openapi.yaml")
}

// Spec is the loaded description.
type Spec struct {
	Doc    *openapi3.T
	router routers.Router
}

var (
	loadOnce sync.Once
	loaded   *Spec
	loadErr  error
)

// Load reads and validates openapi.yaml (once per test binary) and fails t
// if it is not a valid OpenAPI 3.1 description whose examples match their
// schemas.
func Load(t testing.TB) *Spec {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = LoadFile(File()) })
	if loadErr != nil {
		t.Fatalf("openapi.yaml: %v", loadErr)
	}
	return loaded
}

// LoadFile reads and validates the description in path.
func LoadFile(path string) (*Spec, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, err
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapi %s, want 3.1", doc.OpenAPI)
	}
	// Validate checks the structure, the references, and every example
	// against its schema.
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("not a valid description: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &Spec{Doc: doc, router: router}, nil
}

// LocalServer is the server of openapi.yaml that checks match requests
// against; the other servers differ only in their host.
const LocalServer = "http://127.0.0.1:3000"

// Check validates one answer to method and path (the path as requested, with
// no host) against the description.
func (s *Spec) Check(method, path string, status int, header http.Header, body []byte) error {
	req, err := http.NewRequest(method, LocalServer+path, nil)
	if err != nil {
		return err
	}
	route, params, err := s.router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		// OpenAPI cannot name "any other path"; the description's
		// NoSuchRoute response is what the local server answers there.
		route, params, err = s.anyOtherPath(req), nil, nil
	case errors.Is(err, routers.ErrMethodNotAllowed):
		// Nor "any other method" but as an operation that only fails,
		// which linters rightly refuse: the path's x-other-methods holds
		// those answers.
		route, err = s.otherMethod(req)
	}
	if err != nil {
		return fmt.Errorf("%s %s is not in openapi.yaml: %w", method, path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s answered %d: %w", method, path, status, err)
	}
	return s.checkFunctionHeaders(route.Operation, method, path, status, header)
}

// CheckEvent validates the function's response to a payload-2.0 event.
func (s *Spec) CheckEvent(ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) error {
	header := http.Header{}
	for k, v := range resp.Headers {
		header.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			header.Add(k, v)
		}
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("the response's base64 body: %w", err)
		}
	}
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	return s.Check(ev.RequestContext.HTTP.Method, path, resp.StatusCode, header, body)
}

// anyOtherPath is a route for a path the description does not have: its one
// documented answer is components.responses.NoSuchRoute.
func (s *Spec) anyOtherPath(req *http.Request) *routers.Route {
	op := openapi3.NewOperation()
	op.Responses = openapi3.NewResponses(openapi3.WithName("404", s.Doc.Components.Responses["NoSuchRoute"].Value))
	return &routers.Route{Spec: s.Doc, Path: req.URL.Path, Method: req.Method, Operation: op}
}

// OtherMethods is the path item extension that lists the answers to a
// method the path has no operation for.
const OtherMethods = "x-other-methods"

// otherMethod is a route for a method the path has no operation for: its
// documented answers are the path's x-other-methods responses, each a
// $ref to components.responses.
func (s *Spec) otherMethod(req *http.Request) (*routers.Route, error) {
	item := s.Doc.Paths.Find(req.URL.Path)
	if item == nil {
		return nil, fmt.Errorf("no path item %s", req.URL.Path)
	}
	refs, err := OtherMethodResponses(item)
	if err != nil {
		return nil, err
	}
	op := openapi3.NewOperation()
	op.Responses = openapi3.NewResponses()
	for status, ref := range refs {
		name, ok := strings.CutPrefix(ref, "#/components/responses/")
		resp := s.Doc.Components.Responses[name]
		if !ok || resp == nil || resp.Value == nil {
			return nil, fmt.Errorf("%s: %s %s is not a response of components", req.URL.Path, OtherMethods, ref)
		}
		op.Responses.Set(status, resp)
	}
	return &routers.Route{Spec: s.Doc, Path: req.URL.Path, Method: req.Method, Operation: op}, nil
}

// OtherMethodResponses returns a path item's x-other-methods responses:
// status to $ref.
func OtherMethodResponses(item *openapi3.PathItem) (map[string]string, error) {
	ext, ok := item.Extensions[OtherMethods].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the path has no %s", OtherMethods)
	}
	resps, ok := ext["responses"].(map[string]any)
	if !ok || len(resps) == 0 {
		return nil, fmt.Errorf("%s has no responses", OtherMethods)
	}
	out := map[string]string{}
	for status, r := range resps {
		m, _ := r.(map[string]any)
		ref, _ := m["$ref"].(string)
		if ref == "" {
			return nil, fmt.Errorf("%s response %s is not a $ref", OtherMethods, status)
		}
		out[status] = ref
	}
	return out, nil
}

// checkFunctionHeaders holds an answer of the function to the headers the
// description marks x-always-from-function: OpenAPI can make a header
// required per status only, and at these statuses API Gateway's own
// answers (application/json) lack them.
func (s *Spec) checkFunctionHeaders(op *openapi3.Operation, method, path string, status int, header http.Header) error {
	if header.Get("Content-Type") != "application/problem+json" {
		return nil
	}
	resp := op.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return nil
	}
	var errs []error
	for name, h := range resp.Value.Headers {
		if h.Value == nil || h.Value.Extensions["x-always-from-function"] != true {
			continue
		}
		if header.Get(name) == "" {
			errs = append(errs, fmt.Errorf("%s %s answered %d problem+json without %s, which every answer of the function carries", method, path, status, name))
		}
	}
	return errors.Join(errs...)
}
