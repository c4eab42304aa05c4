package morimock

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/google/go-cmp/cmp"
)

// routeAnswer is what a router's answer comes to for the server: the operation, the
// template, the method and the raw path parameters, or the error.
type routeAnswer struct {
	Path, Method string
	Operation    string // its operationId and address: the same operation, not a copy
	Params       map[string]string
	Err          string
}

func answer(route *routers.Route, params map[string]string, err error) routeAnswer {
	if err != nil {
		return routeAnswer{Err: err.Error()}
	}
	return routeAnswer{Path: route.Path, Method: route.Method, Operation: fmt.Sprintf("%s %p", route.Operation.OperationID, route.Operation), Params: params}
}

// referenceRouters are plain gorillamux routers over each whole document, the
// router depthRouter (and its segment fast path) stands in for.
func referenceRouters(tb testing.TB) (*Spec, map[*openapi3.T][2]routers.Router) {
	tb.Helper()
	spec, err := LoadSpec(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	out := map[*openapi3.T][2]routers.Router{}
	for _, doc := range []*openapi3.T{spec.Doc, spec.Sandbox} {
		var all []openapi3.NewPathsOption
		for path, item := range doc.Paths.Map() {
			all = append(all, openapi3.WithPath(path, item))
		}
		ref, err := routerOf(doc, all)
		if err != nil {
			tb.Fatal(err)
		}
		depth, err := newDepthRouter(doc)
		if err != nil {
			tb.Fatal(err)
		}
		out[doc] = [2]routers.Router{ref, depth}
	}
	return spec, out
}

var routeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, "get", "PROPFIND"}

// agree asks both routers of doc and fails t when their answers differ.
func agree(t *testing.T, pair [2]routers.Router, method, rawPath string) {
	t.Helper()
	u, err := url.Parse(rawPath)
	if err != nil || u.Path == "" {
		return
	}
	req := &http.Request{Method: method, URL: u, Header: http.Header{}}
	want := answer(pair[0].FindRoute(req))
	got := answer(pair[1].FindRoute(req))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FindRoute(%s %s) mismatch with gorillamux (-want +got):\n%s", method, rawPath, diff)
	}
}

// TestFindRouteAgreesWithGorillamux asks depthRouter and gorillamux about every
// template of both documents, with each parameter filled in many ways (digits, a
// literal of another template, an encoded slash, nothing) and with every method,
// and about near misses (a segment more or less, a trailing slash, case).
func TestFindRouteAgreesWithGorillamux(t *testing.T) {
	spec, pairs := referenceRouters(t)
	fills := []string{"1234567890123456789", "anti-ai", "webhooks", "confirm", "a%2Fb", "%35", "", "x y", "{orderId}", "..", "retry-failed"}
	for _, doc := range []*openapi3.T{spec.Doc, spec.Sandbox} {
		for path := range doc.Paths.Map() {
			for _, fill := range fills {
				segs := strings.Split(path, "/")
				for i, seg := range segs {
					if strings.HasPrefix(seg, "{") {
						segs[i] = fill
					}
				}
				p := strings.Join(segs, "/")
				for _, m := range routeMethods {
					for _, variant := range []string{p, p + "/", p + "/x", strings.TrimSuffix(p, segs[len(segs)-1]), strings.ToUpper(p), "/" + p, p + "?a=/b"} {
						agree(t, pairs[doc], m, variant)
					}
				}
			}
		}
	}
}

// FuzzFindRoute holds depthRouter to gorillamux for any method and path.
func FuzzFindRoute(f *testing.F) {
	spec, pairs := referenceRouters(f)
	f.Add("GET", "/api/v2/orders/1234567890123456789")
	f.Add("GET", "/api/v2/orders/anti-ai")
	f.Add("POST", "/api/v2/orders/webhooks/12/events/retry-failed")
	f.Add("PUT", "/_morimock/files/a%2Fb")
	f.Add("GET", "/api/v2/orders//download")
	f.Fuzz(func(t *testing.T, method, rawPath string) {
		if method == "" || strings.ContainsAny(method, " \t\r\n") {
			return
		}
		doc := spec.Doc
		if strings.HasPrefix(rawPath, SandboxPrefix) {
			doc = spec.Sandbox
		}
		agree(t, pairs[doc], method, rawPath)
	})
}

// TestFindBySegmentsCoversGetOrder makes sure the fast path is the one a GET order
// takes, so that the agreement above is about the path that matters.
func TestFindBySegmentsCoversGetOrder(t *testing.T) {
	_, pairs := referenceRouters(t)
	for doc, pair := range pairs {
		if doc.Paths.Value(OrderPath) == nil {
			continue
		}
		r := pair[1].(*depthRouter)
		route, params, ok := r.findBySegments(http.MethodGet, "/api/v2/orders/42", 4)
		if !ok || route.Path != OrderPath || params["orderId"] != "42" {
			t.Errorf("findBySegments(GET /api/v2/orders/42) = %v, %v, %v; want %s, orderId 42", route, params, ok, OrderPath)
		}
	}
}
