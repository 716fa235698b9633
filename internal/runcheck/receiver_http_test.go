package runcheck

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// The otlp-http receiver, posted to by a real HTTP client as an OTLP
// exporter posts: only a POST with a body to one of the paths counts; the
// answer is 200 in the request's encoding; a chunked body (Node's
// exporter) is read whole.
func TestOTLPReceiver(t *testing.T) {
	ln, err := Listen()
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := newReceiver(ln, Options{Check: &buildplan.RunCheck{Kind: buildplan.RunCheckOTLPHTTP, Paths: []string{"/v1/traces"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.close()
	base := fmt.Sprintf("http://127.0.0.1:%d", Port(ln))
	post := func(path, ct string, body io.Reader) *http.Response {
		t.Helper()
		resp, err := http.Post(base+path, ct, body)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	reported := func() bool {
		select {
		case <-rcv.reported():
			return true
		case <-time.After(50 * time.Millisecond):
			return false
		}
	}

	if resp, err := http.Get(base + "/v1/traces"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /v1/traces: %v %v, want 404", resp, err)
	}
	if r := post("/v1/metrics", "application/x-protobuf", strings.NewReader("m")); r.StatusCode != http.StatusNotFound {
		t.Errorf("POST to a path not listed: %d, want 404", r.StatusCode)
	}
	if r := post("/v1/traces", "application/x-protobuf", strings.NewReader("")); r.StatusCode != http.StatusBadRequest {
		t.Errorf("empty export: %d, want 400", r.StatusCode)
	}
	if reported() {
		t.Fatal("reported before any export")
	}

	// A chunked protobuf body (no Content-Length: the reader's size is
	// unknown to the client).
	body := bytes.Repeat([]byte{0x0a, 0x01}, 40000)
	r := post("/v1/traces", "application/x-protobuf", io.MultiReader(bytes.NewReader(body)))
	if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "application/x-protobuf" {
		t.Errorf("export: %d %q, want 200 application/x-protobuf", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if !reported() {
		t.Fatal("an export to /v1/traces did not count")
	}
	resp, err := http.Post(base+"/v1/traces", "application/json", strings.NewReader(`{"resourceSpans":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(answer) != "{}" {
		t.Errorf("JSON export answered %d %q, want 200 {}", resp.StatusCode, answer)
	}

	res := &Result{Kind: buildplan.RunCheckOTLPHTTP, Connected: true}
	rcv.report(context.Background(), res)
	if len(res.Requests) != 2 || res.Requests[0].Size != int64(len(body)) || !bytes.Equal(res.Requests[0].Body, body) || res.Requests[1].ContentType != "application/json" {
		t.Errorf("requests %v", res.Requests)
	}
	if want := fmt.Sprintf("agent reported (POST /v1/traces, application/x-protobuf, %d bytes)", len(body)); !strings.HasPrefix(res.String(), want) {
		t.Errorf("summary %q, want it to start with %q", res.String(), want)
	}
}

// The http kind counts any request, a GET included.
func TestHTTPReceiver(t *testing.T) {
	ln, err := Listen()
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := newReceiver(ln, Options{Check: &buildplan.RunCheck{Kind: buildplan.RunCheckHTTP}})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.close()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/agent/hello?x=1", Port(ln)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case <-rcv.reported():
	case <-time.After(5 * time.Second):
		t.Fatal("a GET did not count for kind http")
	}
	res := &Result{Kind: buildplan.RunCheckHTTP, Connected: true}
	rcv.report(context.Background(), res)
	if res.Report != "GET /agent/hello, 0 bytes" || resp.StatusCode != http.StatusOK {
		t.Errorf("report %q, status %d", res.Report, resp.StatusCode)
	}
	if s := (&Result{Kind: buildplan.RunCheckHTTP}).String(); !strings.HasPrefix(s, "agent sent no HTTP request") {
		t.Errorf("nothing sent: %q", s)
	}
	if s := (&Result{Kind: buildplan.RunCheckOTLPHTTP}).String(); !strings.HasPrefix(s, "agent sent no OTLP export") {
		t.Errorf("nothing sent: %q", s)
	}
}

func TestUnknownKind(t *testing.T) {
	ln, err := Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := newReceiver(ln, Options{Check: &buildplan.RunCheck{Kind: "grpc"}}); err == nil || !strings.Contains(err.Error(), `unknown run check kind "grpc"`) {
		t.Errorf("error %v", err)
	}
}
