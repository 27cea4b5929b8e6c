package tosca

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/tosca/profiles"
)

// fanOutFile is a valid TOSCA file of about size bytes that is almost all
// YAML nodes: a list of short scalars under dsl_definitions (12 bytes a
// node: 7.9 MB stay under the per-file limit of 1M nodes). Its lines are
// all alike, so a package of 63 copies stays small on disk.
func fanOutFile(size int) []byte {
	var b bytes.Buffer
	b.WriteString("tosca_definitions_version: tosca_simple_yaml_1_3\ndsl_definitions:\n")
	for b.Len() < size-12 {
		b.WriteString("  - vvvvvvv\n")
	}
	return b.Bytes()
}

// fanOutEntry imports n files f00.yaml, f01.yaml ...
func fanOutEntry(n int) []byte {
	var b bytes.Buffer
	b.WriteString("tosca_definitions_version: tosca_simple_yaml_1_3\nimports:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - f%02d.yaml\n", i)
	}
	return b.Bytes()
}

// fanOutFS is the fan-out package in memory: an entry importing n copies
// of one file.
func fanOutFS(n int, file []byte) fstest.MapFS {
	fsys := fstest.MapFS{"main.yaml": {Data: fanOutEntry(n)}}
	for i := 0; i < n; i++ {
		fsys[fmt.Sprintf("f%02d.yaml", i)] = &fstest.MapFile{Data: file}
	}
	return fsys
}

func normativeSize(t *testing.T) int64 {
	_, data, ok := profiles.Normative("tosca_simple_yaml_1_3")
	if !ok {
		t.Fatal("no embedded normative types for 1.3")
	}
	return int64(len(data))
}

// onlyProblem fails unless st has exactly one error, with code, in file.
func onlyProblem(t *testing.T, st *ServiceTemplate, code, file string, fragments ...string) {
	t.Helper()
	var errs []Problem
	for _, p := range st.Problems {
		if p.Severity == SeverityError {
			errs = append(errs, p)
		}
	}
	if len(errs) != 1 || errs[0].Code != code || errs[0].File != file {
		t.Fatalf("want one error %s in %s; problems:\n%s", code, file, dump(st.Problems))
	}
	for _, f := range fragments {
		if !strings.Contains(errs[0].Message, f) {
			t.Errorf("the message %q lacks %q", errs[0].Message, f)
		}
	}
}

// TestBudgetBytesFanOut: a package whose files each pass the per-file
// limits but whose total does not is refused at the first file over the
// byte budget, before that file is read, and nothing after it is read.
func TestBudgetBytesFanOut(t *testing.T) {
	file := fanOutFile(8 << 10)
	fsys := fanOutFS(63, file)
	lim := Limits{MaxTotalBytes: 64 << 10, MaxTotalNodes: 1 << 30}
	st := Process(fsys, "main.yaml", Options{Limits: lim})

	// Parsed in order: the entry, the normative types, then f00, f01...
	spent := int64(len(fsys["main.yaml"].Data)) + normativeSize(t)
	k := 0
	for spent+int64(len(file)) <= lim.MaxTotalBytes {
		spent += int64(len(file))
		k++
	}
	crossing := fmt.Sprintf("f%02d.yaml", k)
	onlyProblem(t, st, CodeBudgetBytes, crossing,
		fmt.Sprintf("%q has %d bytes", crossing, len(file)),
		fmt.Sprintf("to %d bytes, over the budget of %d bytes", spent+int64(len(file)), lim.MaxTotalBytes),
		fmt.Sprintf("the %d files parsed before it hold %d bytes", k+2, spent))
	if len(st.Files) != k+1 {
		t.Errorf("files read: %d (%v), want the entry and %d imports", len(st.Files), st.Files, k)
	}
}

// TestBudgetNodesFanOut: the node budget refuses a file from a scan of its
// bytes, before yaml.v3 builds its tree.
func TestBudgetNodesFanOut(t *testing.T) {
	file := fanOutFile(8 << 10)
	perFile := scanNodes(file)
	fsys := fanOutFS(63, file)
	lim := Limits{MaxTotalNodes: 10 * perFile}
	st := Process(fsys, "main.yaml", Options{Limits: lim})
	var p Problem
	for _, q := range st.Problems {
		if q.Code == CodeBudgetNodes {
			p = q
		}
	}
	if !strings.HasPrefix(p.File, "f") || !strings.Contains(p.Message, fmt.Sprintf("holds %d YAML nodes", perFile)) ||
		!strings.Contains(p.Message, fmt.Sprintf("over the budget of %d nodes", lim.MaxTotalNodes)) {
		t.Fatalf("imprecise problem: %v", p)
	}
	onlyProblem(t, st, CodeBudgetNodes, p.File)
	if n := len(st.Files); n > 11 {
		t.Errorf("%d files read past a budget of 10 files' nodes", n)
	}
}

// TestBudgetAliases: aliases cost nothing to scan but count expanded once
// parsed, as the per-file limit counts them: a file within the budget by
// its written nodes and over it with its aliases expanded is refused.
func TestBudgetAliases(t *testing.T) {
	var b strings.Builder
	b.WriteString("tosca_definitions_version: tosca_simple_yaml_1_3\nmetadata: &m\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "  k%d: v\n", i)
	}
	b.WriteString("dsl_definitions:\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&b, "  a%d: *m\n", i)
	}
	st := process(t, map[string]string{"main.yaml": b.String()}, Options{Limits: Limits{MaxTotalNodes: 5000}})
	onlyProblem(t, st, CodeBudgetNodes, "main.yaml", "over the budget of 5000 nodes")
}

// TestBudgetRealPackagesPass: the default budget leaves every corpus
// package far from its limits (they parse ~110 KB and ~6,500 nodes,
// embedded profiles included).
func TestBudgetRealPackagesPass(t *testing.T) {
	dir := testenv.Corpus(t)
	zips, _ := filepath.Glob(filepath.Join(dir, "*.zip"))
	for _, z := range zips {
		fsys, entry := corpusPackage(t, filepath.Base(z))
		tight := Limits{MaxTotalBytes: DefaultLimits.MaxTotalBytes / 20, MaxTotalNodes: DefaultLimits.MaxTotalNodes / 20}
		st := Process(fsys, entry, Options{Limits: tight})
		for _, p := range st.Problems {
			if p.Code == CodeBudgetBytes || p.Code == CodeBudgetNodes {
				t.Errorf("%s does not fit a twentieth of the default budget: %v", filepath.Base(z), p)
			}
		}
	}
}

// writeFanOutZip writes the fan-out package as a zip: an entry importing n
// copies of file, compressed once and stored n times.
func writeFanOutZip(t *testing.T, n int, file []byte) string {
	name := filepath.Join(t.TempDir(), "fan-out.zip")
	out, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	fw.Write(file)
	fw.Close()
	zw := zip.NewWriter(out)
	w, _ := zw.Create("main.yaml")
	w.Write(fanOutEntry(n))
	for i := 0; i < n; i++ {
		h := &zip.FileHeader{Name: fmt.Sprintf("f%02d.yaml", i), Method: zip.Deflate,
			CRC32: crc32.ChecksumIEEE(file), CompressedSize64: uint64(comp.Len()), UncompressedSize64: uint64(len(file))}
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(comp.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestBudgetFanOutPeakMemory processes, with the default limits, the
// package that drove one onboarding to 5.7 GB: 63 imports of ~7.9 MB, each
// within every per-file limit. The child process must refuse it within
// 128 MiB of peak resident memory.
func TestBudgetFanOutPeakMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 63 x 7.9 MB package")
	}
	file := fanOutFile(7_900_000)
	if n := scanNodes(file); int64(len(file)) > DefaultLimits.MaxFileSize || n > DefaultLimits.MaxNodes {
		t.Fatalf("the fan-out file must pass the per-file limits: %d bytes, %d nodes", len(file), n)
	}
	name := writeFanOutZip(t, 63, file)
	peak, out := testenv.RunChild(t, "TestChildFanOut", "VNFPKGM_CHILD_FANOUT="+name)
	t.Logf("child peak RSS %.1f MiB\n%s", float64(peak)/(1<<20), out)
	if peak >= 128<<20 {
		t.Fatalf("peak RSS %.1f MiB, over 128 MiB", float64(peak)/(1<<20))
	}
}

// TestChildFanOut is the child of TestBudgetFanOutPeakMemory.
func TestChildFanOut(t *testing.T) {
	name := os.Getenv("VNFPKGM_CHILD_FANOUT")
	if name == "" {
		t.Skip("runs only as the child of TestBudgetFanOutPeakMemory")
	}
	zr, err := zip.OpenReader(name)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	st := Process(zr, "main.yaml", Options{})
	onlyProblem(t, st, CodeBudgetNodes, "f00.yaml", "over the budget of")
	t.Log(st.Problems)
}

// BenchmarkBudgetWorstCasePeakRSS reports the peak resident memory of one
// Process call on packages that fill the default budget: "nodes" holds
// just under MaxTotalNodes nodes in dense flow lists (the most nodes per
// byte), "bytes" just under MaxTotalBytes of long scalars, "both" the
// two in one file. This is the
// per-call ceiling the budget gives (times the concurrent calls: GET
// .../vnfd re-parses through the same processor).
func BenchmarkBudgetWorstCasePeakRSS(b *testing.B) {
	for _, shape := range []string{"nodes", "bytes", "both"} {
		b.Run(shape, func(b *testing.B) {
			name := filepath.Join(b.TempDir(), "main.yaml")
			if err := os.WriteFile(name, worstCaseFile(shape), 0o644); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				peak, _ := testenv.RunChild(b, "TestChildWorstCase", "VNFPKGM_CHILD_WORST="+name)
				b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
			}
		})
	}
}

// worstCaseFile fills the default budget with one file, less the embedded
// normative types parsed with it.
func worstCaseFile(shape string) []byte {
	var b bytes.Buffer
	b.WriteString("tosca_definitions_version: tosca_simple_yaml_1_3\ndsl_definitions:\n")
	if shape != "bytes" {
		target := DefaultLimits.MaxTotalNodes - 3000
		for n := 5; n < target; {
			b.WriteString("  - [")
			for j := 0; j < 1000 && n < target; j++ {
				b.WriteString("a,")
				n++
			}
			b.WriteString("]\n")
			n++
		}
		if shape == "nodes" {
			return b.Bytes()
		}
	}
	line := "  - " + strings.Repeat("x", 8000) + "\n"
	for int64(b.Len()+len(line)) < DefaultLimits.MaxTotalBytes-64<<10 {
		b.WriteString(line)
	}
	return b.Bytes()
}

// TestChildWorstCase is the child of BenchmarkBudgetWorstCasePeakRSS.
func TestChildWorstCase(t *testing.T) {
	name := os.Getenv("VNFPKGM_CHILD_WORST")
	if name == "" {
		t.Skip("runs only as the child of BenchmarkBudgetWorstCasePeakRSS")
	}
	st := Process(os.DirFS(filepath.Dir(name)), filepath.Base(name), Options{})
	for _, p := range st.Problems {
		if p.Code == CodeBudgetBytes || p.Code == CodeBudgetNodes || p.Severity == SeverityError {
			t.Fatalf("the worst case must fit the budget: %v", p)
		}
	}
}
