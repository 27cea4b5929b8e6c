package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	writeTable(&b, []string{"Field", "Value"}, [][]string{
		{"ID", "1234"},
		{"Links", "{\n    \"self\": 1\n}"},
		{"Émoji", ""},
	})
	want := "" +
		"+-------+---------------+\n" +
		"| Field | Value         |\n" +
		"+-------+---------------+\n" +
		"| ID    | 1234          |\n" +
		"| Links | {             |\n" +
		"|       |     \"self\": 1 |\n" +
		"|       | }             |\n" +
		"| Émoji |               |\n" +
		"+-------+---------------+\n"
	if b.String() != want {
		t.Fatalf("table:\n%s\nwant\n%s", b.String(), want)
	}
}

func TestEmitFormats(t *testing.T) {
	cols := []column{{"Id", "id"}, {"Onboarding State", "onboardingState"}, {"Links", "_links"}, {"Size", "size"}}
	var recs []map[string]any
	for _, raw := range []string{
		`{"id":"a","onboardingState":"CREATED","_links":{"self":{"href":"/x/a"}},"size":12345678901}`,
		`{"id":"b","_links":{"self":{"href":"/x/b"}},"size":1.5}`,
	} {
		var m map[string]any
		if err := decodeJSON([]byte(raw), &m, "test"); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, m)
	}
	var b bytes.Buffer
	emitList(&b, "value", cols, recs)
	if want := "a CREATED {\"self\":{\"href\":\"/x/a\"}} 12345678901\nb  {\"self\":{\"href\":\"/x/b\"}} 1.5\n"; b.String() != want {
		t.Fatalf("value:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	emitList(&b, "json", cols, recs)
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("json: %v\n%s", err, b.String())
	}
	if got[0]["Onboarding State"] != "CREATED" || got[1]["Onboarding State"] != nil || got[0]["Size"] != 12345678901.0 {
		t.Fatalf("json: %v", got)
	}
	// Keys in column order, not sorted.
	if i, j := strings.Index(b.String(), `"Onboarding State"`), strings.Index(b.String(), `"Links"`); i < 0 || j < i {
		t.Fatalf("json keys out of column order:\n%s", b.String())
	}
	b.Reset()
	emitList(&b, "yaml", cols, recs)
	if !strings.Contains(b.String(), "Size: 12345678901\n") || !strings.Contains(b.String(), "- Id: a\n") {
		t.Fatalf("yaml (numbers unquoted, column titles as keys):\n%s", b.String())
	}
	b.Reset()
	emitList(&b, "table", cols, nil)
	if b.Len() != 0 {
		t.Fatalf("an empty list prints no table: %q", b.String())
	}
	b.Reset()
	emitOne(&b, "value", cols[:2], recs[0])
	if b.String() != "a\nCREATED\n" {
		t.Fatalf("one record, -f value: %q", b.String())
	}
}

func TestSelectColumns(t *testing.T) {
	avail := []column{{"Id", "id"}, {"Onboarding State", "onboardingState"}}
	known := knownColumns()
	for _, c := range []struct {
		names []string
		want  []string
	}{
		{nil, []string{"id", "onboardingState"}},
		{[]string{"onboarding state", "ID"}, []string{"onboardingState", "id"}},
		{[]string{"onboarding_state"}, []string{"onboardingState"}},
		{[]string{"VNF Provider"}, []string{"vnfProvider"}},
		{[]string{"links"}, []string{"_links"}},
	} {
		cols, err := selectColumns(avail, known, c.names)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, col := range cols {
			got = append(got, col.attr)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Fatalf("-c %v: %v, want %v", c.names, got, c.want)
		}
	}
	if _, err := selectColumns(avail, known, []string{"bogus"}); err == nil {
		t.Fatal("an unknown column is accepted")
	}
}

func TestRanges(t *testing.T) {
	if got := merge([][2]int64{{10, 20}, {0, 5}, {5, 8}, {15, 30}, {40, 40}}); !reflect.DeepEqual(got, [][2]int64{{0, 8}, {10, 30}}) {
		t.Fatalf("merge: %v", got)
	}
	if got := missing([][2]int64{{10, 20}, {0, 5}}, 30); !reflect.DeepEqual(got, [][2]int64{{5, 10}, {20, 30}}) {
		t.Fatalf("missing: %v", got)
	}
	if got := missing(nil, 7); !reflect.DeepEqual(got, [][2]int64{{0, 7}}) {
		t.Fatalf("missing of nothing: %v", got)
	}
	if got := split([][2]int64{{0, 100}}, 4); !reflect.DeepEqual(got, [][2]int64{{0, 25}, {25, 50}, {50, 75}, {75, 100}}) {
		t.Fatalf("split 4: %v", got)
	}
	// Extra pieces go to the biggest hole; every byte is covered once.
	got := split([][2]int64{{0, 10}, {100, 200}}, 4)
	if !reflect.DeepEqual(got, [][2]int64{{0, 10}, {100, 133}, {133, 166}, {166, 200}}) {
		t.Fatalf("split of two holes: %v", got)
	}
	if got := split([][2]int64{{0, 2}}, 8); !reflect.DeepEqual(got, [][2]int64{{0, 1}, {1, 2}}) {
		t.Fatalf("split of a tiny hole: %v", got)
	}
	if got := split([][2]int64{{0, 1}, {5, 6}, {9, 10}}, 2); len(got) != 3 {
		t.Fatalf("more holes than connections: %v", got)
	}
}

func TestParseContentRange(t *testing.T) {
	for _, c := range []struct {
		in      string
		a, b, n int64
		ok      bool
	}{
		{"bytes 0-9/100", 0, 9, 100, true},
		{"bytes 90-99/100", 90, 99, 100, true},
		{"bytes */100", 0, 0, 0, false},
		{"bytes 10-5/100", 0, 0, 0, false},
		{"bytes 0-100/100", 0, 0, 0, false},
		{"items 0-1/2", 0, 0, 0, false},
	} {
		a, b, n, ok := parseContentRange(c.in)
		if ok != c.ok || (ok && (a != c.a || b != c.b || n != c.n)) {
			t.Fatalf("%q: %d %d %d %v", c.in, a, b, n, ok)
		}
	}
	if strongETag(`W/"x"`) != "" || strongETag(`"x"`) != `"x"` || strongETag("x") != "" {
		t.Fatal("strongETag")
	}
}

func TestNextLink(t *testing.T) {
	h := http.Header{}
	h.Add("Link", `<http://h:1/vnfpkgm/v1/vnf_packages?filter=(in,a,x,y)%3B(eq,b,'c,d')&nextpage_opaque_marker=M1>; rel="next", </other>; rel="prev"`)
	if got := nextLink(h, "http://h:1/vnfpkgm/v1/vnf_packages"); got != "http://h:1/vnfpkgm/v1/vnf_packages?filter=(in,a,x,y)%3B(eq,b,'c,d')&nextpage_opaque_marker=M1" {
		t.Fatalf("next: %q", got)
	}
	h = http.Header{"Link": {`</vnfpkgm/v1/vnf_packages?nextpage_opaque_marker=2>; rel=next`}}
	if got := nextLink(h, "http://h:1/vnfpkgm/v1/vnf_packages"); got != "http://h:1/vnfpkgm/v1/vnf_packages?nextpage_opaque_marker=2" {
		t.Fatalf("relative next: %q", got)
	}
	h = http.Header{"Link": {`</a>; rel="prev"`}}
	if got := nextLink(h, "http://h:1/"); got != "" {
		t.Fatalf("no next: %q", got)
	}
}

func TestProgressRender(t *testing.T) {
	p := &progress{label: "Downloading pkg.zip", total: 4 << 20, base: 1 << 20}
	got := p.render(2<<20, 2*time.Second, false)
	want := "Downloading pkg.zip  50% [===============               ] 2.0 MiB / 4.0 MiB  512.0 KiB/s  ETA 4s"
	if got != want {
		t.Fatalf("render:\n%q\nwant\n%q", got, want)
	}
	if got := p.render(4<<20, 6*time.Second, true); !strings.HasSuffix(got, "100% [==============================] 4.0 MiB / 4.0 MiB  512.0 KiB/s  in 6s") {
		t.Fatalf("final render: %q", got)
	}
	unknown := &progress{label: "x", total: -1}
	if got := unknown.render(1536, time.Second, false); got != "x 1.5 KiB  1.5 KiB/s" {
		t.Fatalf("unknown total: %q", got)
	}
	// A disabled bar writes nothing; an enabled one redraws in place.
	var b bytes.Buffer
	off := newProgress(&b, false, "x", 0, 10)
	off.Add(10)
	off.Done()
	if b.Len() != 0 {
		t.Fatalf("a disabled bar wrote %q", b.String())
	}
	on := newProgress(&syncWriter{w: &b}, true, "up", 0, 10)
	on.Add(10)
	on.Done()
	if out := b.String(); !strings.HasPrefix(out, "\r") || !strings.Contains(out, "100%") || !strings.HasSuffix(out, "\n") {
		t.Fatalf("enabled bar: %q", out)
	}
}

type syncWriter struct{ w *bytes.Buffer }

func (s *syncWriter) Write(p []byte) (int, error) { return s.w.Write(p) }
