package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// normalize re-decodes a value the way a JSON consumer sees it.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// titles are the column titles the openstack CLI gives VnfPkgInfo
// attributes on a record; written here independently of the CLI's table.
var titles = map[string]string{
	"id": "ID", "vnfdId": "VNFD ID", "vnfProvider": "VNF Provider", "vnfProductName": "VNF Product Name",
	"vnfSoftwareVersion": "VNF Software Version", "vnfdVersion": "VNFD Version", "checksum": "Checksum",
	"compatibleSpecificationVersions": "Compatible Specification Versions", "packageSecurityOption": "Package Security Option",
	"signingCertificate": "Signing Certificate", "softwareImages": "Software Images", "additionalArtifacts": "Additional Artifacts",
	"onboardingState": "Onboarding State", "operationalState": "Operational State", "usageState": "Usage State",
	"vnfmInfo": "VNFM Info", "userDefinedData": "User Defined Data", "onboardingFailureDetails": "Onboarding Failure Details",
	"_links": "Links",
}

func TestUploadWaitOnboarded(t *testing.T) {
	corpus := testenv.Corpus(t)
	t.Parallel()
	s := startServer(t)
	pkg := filepath.Join(corpus, "helloworld3-multi.zip")

	r := s.mustCLI(t, "package", "create", "--user-data", "owner=nfvo-1", "--user-data", "site=lab")
	for _, want := range []string{"| Field ", "| Value ", "| Onboarding State  | CREATED ", "| Usage State       | NOT_IN_USE ", `"owner": "nfvo-1"`, `"site": "lab"`} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("create table lacks %q:\n%s", want, r.stdout)
		}
	}
	id := strings.TrimSpace(s.mustCLI(t, "package", "create", "-f", "value", "-c", "id").stdout)
	if !uuidRE.MatchString(id) {
		t.Fatalf("create -f value -c id printed %q", id)
	}

	r = s.cli(t, "package", "upload", id, "--path", pkg, "--wait")
	if r.code != exitOK {
		t.Fatalf("upload --wait: %s\n%s", r, s.log)
	}
	if !strings.Contains(r.stdout, "Upload request for VNF package "+id+" has been accepted.") || !strings.Contains(r.stdout, "VNF package "+id+" is ONBOARDED") {
		t.Fatalf("upload --wait output:\n%s", r)
	}
	if r.stderr != "" {
		t.Fatalf("nothing goes to stderr when it is not a terminal (no progress bar), got %q", r.stderr)
	}
	var info map[string]any
	s.apiJSON(t, "/vnf_packages/"+id, &info)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("the server says %v", info["onboardingState"])
	}
	if cs, _ := info["checksum"].(map[string]any); cs["hash"] != sha256File(t, pkg) {
		t.Fatalf("the uploaded bytes differ from the file: checksum %v", info["checksum"])
	}

	// show -f json: every attribute of the API's record, under its title.
	r = s.mustCLI(t, "package", "show", id, "-f", "json")
	var shown map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil {
		t.Fatalf("show -f json: %v\n%s", err, r.stdout)
	}
	if len(shown) != len(info) {
		t.Fatalf("show has %d fields, the API %d:\n%s", len(shown), len(info), r.stdout)
	}
	for attr, v := range info {
		title, ok := titles[attr]
		if !ok {
			t.Fatalf("attribute %s has no expected title", attr)
		}
		if !reflect.DeepEqual(normalize(t, shown[title]), normalize(t, v)) {
			t.Fatalf("show %q = %v, API %s = %v", title, shown[title], attr, v)
		}
	}

	// A second upload is refused by the server: its ProblemDetails shows.
	r = s.cli(t, "package", "upload", id, "--path", pkg)
	if r.code != exitFailed || !strings.Contains(r.stderr, "Conflict") || !strings.Contains(r.stderr, "ONBOARDED") || !strings.Contains(r.stderr, "HTTP 409") {
		t.Fatalf("upload to an onboarded package: %s", r)
	}
}

func TestUploadWaitError(t *testing.T) {
	corpus := testenv.Corpus(t)
	t.Parallel()
	s := startServer(t)
	id := s.apiCreate(t, nil)
	r := s.cli(t, "package", "upload", id, "--path", filepath.Join(corpus, "bad-artifact-hash.zip"), "--wait")
	if r.code != exitFailed {
		t.Fatalf("upload --wait of an invalid package: %s", r)
	}
	var info struct {
		OnboardingState          string
		OnboardingFailureDetails struct {
			Title    string
			Problems []struct {
				Severity, Code, File, Message string
				Line, Column                  int
			}
		}
	}
	s.apiJSON(t, "/vnf_packages/"+id, &info)
	if info.OnboardingState != "ERROR" || len(info.OnboardingFailureDetails.Problems) == 0 {
		t.Fatalf("the server says %+v", info)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if !strings.Contains(lines[0], id) || !strings.Contains(lines[0], "ERROR") || !strings.Contains(lines[0], info.OnboardingFailureDetails.Title) {
		t.Fatalf("first line should name the package, ERROR and the failure title %q:\n%s", info.OnboardingFailureDetails.Title, r.stderr)
	}
	// Every problem, located, with its code; errors first.
	sawError := false
	for _, p := range info.OnboardingFailureDetails.Problems {
		loc := p.File
		if p.Line > 0 {
			loc += fmt.Sprintf(":%d", p.Line)
			if p.Column > 0 {
				loc += fmt.Sprintf(":%d", p.Column)
			}
		}
		want := fmt.Sprintf("%s: %s: %s [%s]", loc, p.Severity, p.Message, p.Code)
		if !strings.Contains(r.stderr, want+"\n") {
			t.Fatalf("problem %q not printed:\n%s", want, r.stderr)
		}
		if p.Severity == "error" {
			sawError = true
			if !strings.HasPrefix(lines[1], loc+": error: ") {
				t.Fatalf("the errors come first, got %q", lines[1])
			}
		}
	}
	if !sawError || !strings.Contains(r.stderr, "[manifest-hash-mismatch]") {
		t.Fatalf("the hash mismatch is not reported:\n%s", r.stderr)
	}
}

func TestUploadFromURL(t *testing.T) {
	corpus := testenv.Corpus(t)
	t.Parallel()
	s := startServer(t)
	pkg := filepath.Join(corpus, "helloworld3-multi.zip")
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "repo" || p != "s3cret" {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		http.ServeFile(w, r, pkg)
	}))
	defer origin.Close()

	id := s.apiCreate(t, nil)
	r := s.cli(t, "package", "upload", id, "--url", origin.URL+"/pkg.zip", "--user-name", "repo", "--password", "s3cret", "--wait")
	if r.code != exitOK || !strings.Contains(r.stdout, "is ONBOARDED") {
		t.Fatalf("upload --url --wait: %s\n%s", r, s.log)
	}
	// Wrong credentials: the fetch fails, the package is CREATED again
	// with the reason, which --wait prints.
	id2 := s.apiCreate(t, nil)
	r = s.cli(t, "package", "upload", id2, "--url", origin.URL+"/pkg.zip", "--user-name", "repo", "--password", "wrong", "--wait")
	if r.code != exitFailed || !strings.Contains(r.stderr, "the upload failed") || !strings.Contains(r.stderr, "401") {
		t.Fatalf("upload --url with a wrong password: %s", r)
	}
	if st := s.apiWait(t, id2); st != "CREATED" {
		t.Fatalf("state %s", st)
	}
}

// listCase is a list command and the query the API gets for it.
type listCase struct {
	name      string
	args      []string
	query     string
	selectors bool // the table shows every attribute returned
}

func TestListMatchesAPI(t *testing.T) {
	corpus := testenv.Corpus(t)
	t.Parallel()
	s := startServer(t)
	if st := s.apiOnboard(t, s.apiCreate(t, map[string]string{"team": "blue"}), filepath.Join(corpus, "helloworld3-multi.zip")); st != "ONBOARDED" {
		t.Fatal(st)
	}
	if st := s.apiOnboard(t, s.apiCreate(t, map[string]string{"team": "red"}), filepath.Join(corpus, "practical-two-flavours.zip")); st != "ONBOARDED" {
		t.Fatal(st)
	}
	if st := s.apiOnboard(t, s.apiCreate(t, map[string]string{"team": "blue"}), filepath.Join(corpus, "bad-artifact-hash.zip")); st != "ERROR" {
		t.Fatal(st)
	}
	s.apiCreate(t, map[string]string{"team": "blue"})
	s.apiCreate(t, map[string]string{"team": "red"})
	s.apiCreate(t, nil)
	const total = 6

	cases := []listCase{
		{"everything", nil, "", false},
		{"filter eq", []string{"--filter", "(eq,onboardingState,ONBOARDED)"}, "filter=(eq,onboardingState,ONBOARDED)", false},
		{"filter and", []string{"--filter", "(eq,userDefinedData/team,blue);(neq,onboardingState,ERROR)"}, "filter=(eq,userDefinedData/team,blue)%3B(neq,onboardingState,ERROR)", false},
		{"filter in", []string{"--filter", "(in,onboardingState,ERROR,CREATED)"}, "filter=(in,onboardingState,ERROR,CREATED)", false},
		{"all_fields", []string{"--all_fields"}, "all_fields", true},
		{"fields and filter", []string{"--fields", "softwareImages/checksum,userDefinedData", "--filter", "(cont,vnfProvider,Lab)"}, "fields=softwareImages/checksum,userDefinedData&filter=(cont,vnfProvider,Lab)", true},
		{"exclude_fields", []string{"--exclude_fields", "vnfProvider,checksum"}, "exclude_fields=vnfProvider,checksum", true},
		{"exclude_default", []string{"--exclude_default"}, "exclude_default", false},
		{"fields and exclude_default", []string{"--fields", "userDefinedData", "--exclude_default"}, "fields=userDefinedData&exclude_default", true},
	}
	defaultCols := []string{"Id", "Vnf Product Name", "Onboarding State", "Usage State", "Operational State", "Links"}
	defaultAttrs := []string{"id", "vnfProductName", "onboardingState", "usageState", "operationalState", "_links"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, _ := s.apiListAll(t, c.query)
			if strings.HasPrefix(c.name, "filter") && (len(want) == 0 || len(want) >= total) {
				t.Fatalf("the API selects %d of %d packages: the case tests nothing", len(want), total)
			}
			r := s.mustCLI(t, append(append([]string{"package", "list"}, c.args...), "-f", "json")...)
			var got []map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("list -f json: %v\n%s", err, r.stdout)
			}
			if len(got) != len(want) {
				t.Fatalf("CLI %d records, API %d", len(got), len(want))
			}
			// The columns: the six of the openstack CLI, then with a
			// selector every other attribute any record has.
			attrs := map[string]bool{}
			for _, rec := range want {
				for a := range rec {
					attrs[a] = true
				}
			}
			for i, rec := range want {
				exp := map[string]any{}
				for j, col := range defaultCols {
					exp[col] = rec[defaultAttrs[j]]
				}
				if c.selectors {
					for a := range attrs {
						if exp[titles[a]] == nil && !contains(defaultAttrs, a) {
							if titles[a] == "" {
								t.Fatalf("attribute %s has no expected title", a)
							}
							exp[titles[a]] = rec[a]
						}
					}
				}
				if !reflect.DeepEqual(normalize(t, got[i]), normalize(t, exp)) {
					t.Fatalf("record %d:\nCLI %v\nwant %v", i, got[i], exp)
				}
			}
			// -f value -c id: the API's ids, in its order, one per line.
			r = s.mustCLI(t, append(append([]string{"package", "list"}, c.args...), "-f", "value", "-c", "id")...)
			var ids []string
			for _, rec := range want {
				ids = append(ids, rec["id"].(string)+"\n")
			}
			if r.stdout != strings.Join(ids, "") {
				t.Fatalf("-f value -c id:\n%s\nwant\n%s", r.stdout, strings.Join(ids, ""))
			}
		})
	}
	// The selected attributes are really there (a CLI dropping the
	// selectors would pass the comparisons above only if the API did too).
	r := s.mustCLI(t, "package", "list", "--fields", "softwareImages/checksum,userDefinedData", "--filter", "(eq,vnfProvider,DemoLabs)", "-f", "json")
	if !strings.Contains(r.stdout, `"Software Images"`) || !strings.Contains(r.stdout, `"User Defined Data"`) || strings.Contains(r.stdout, `"Additional Artifacts"`) {
		t.Fatalf("--fields softwareImages/checksum,userDefinedData:\n%s", r.stdout)
	}
	// A filter the server refuses: its ProblemDetails, exit 1.
	r = s.cli(t, "package", "list", "--filter", "(eq,noSuchAttribute,1)")
	if r.code != exitFailed || !strings.Contains(r.stderr, "Bad Request") || !strings.Contains(r.stderr, "noSuchAttribute") {
		t.Fatalf("bad filter: %s", r)
	}
	r = s.cli(t, "package", "list", "--all_fields", "--exclude_default")
	if r.code != exitFailed || !strings.Contains(r.stderr, "HTTP 400") {
		t.Fatalf("a combination the server refuses: %s", r)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func TestListFollowsPages(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for i := 0; i < 103; i++ {
		s.apiCreate(t, map[string]string{"batch": "x"})
	}
	for i := 0; i < 3; i++ {
		s.apiCreate(t, map[string]string{"batch": "y"})
	}
	for _, c := range []struct {
		args  []string
		query string
		n     int
	}{
		{nil, "", 106},
		{[]string{"--filter", "(eq,userDefinedData/batch,x)"}, "filter=(eq,userDefinedData/batch,x)", 103},
	} {
		want, pages := s.apiListAll(t, c.query)
		if len(want) != c.n || pages < 2 {
			t.Fatalf("the API gives %d packages in %d pages: the test needs several pages", len(want), pages)
		}
		r := s.mustCLI(t, append(append([]string{"package", "list"}, c.args...), "-f", "value", "-c", "id")...)
		var ids []string
		for _, rec := range want {
			ids = append(ids, rec["id"].(string))
		}
		if got := strings.Fields(r.stdout); !reflect.DeepEqual(got, ids) {
			t.Fatalf("list %v: %d ids, want the %d of every page", c.args, len(got), len(ids))
		}
	}
}

func TestUpdateAndDelete(t *testing.T) {
	corpus := testenv.Corpus(t)
	t.Parallel()
	s := startServer(t)
	id := s.apiCreate(t, map[string]string{"owner": "nfvo-1"})
	if st := s.apiOnboard(t, id, filepath.Join(corpus, "helloworld3-multi.zip")); st != "ONBOARDED" {
		t.Fatal(st)
	}
	api := func() (info struct {
		OperationalState string
		UserDefinedData  map[string]any
	}) {
		s.apiJSON(t, "/vnf_packages/"+id, &info)
		return info
	}

	// An ENABLED package cannot be deleted: the server's 409, exit 1.
	r := s.cli(t, "package", "delete", id)
	if r.code != exitFailed || !strings.Contains(r.stderr, "Conflict") || !strings.Contains(r.stderr, "DISABLED") {
		t.Fatalf("delete of an ENABLED package: %s", r)
	}

	r = s.mustCLI(t, "package", "update", id, "--operational-state", "DISABLED")
	if !strings.Contains(r.stdout, "| Operational State | DISABLED |") {
		t.Fatalf("update table:\n%s", r.stdout)
	}
	if st := api().OperationalState; st != "DISABLED" {
		t.Fatalf("the server says %s", st)
	}
	r = s.cli(t, "package", "update", id, "--operational-state", "DISABLED")
	if r.code != exitFailed || !strings.Contains(r.stderr, "HTTP 409") {
		t.Fatalf("update to the current state: %s", r)
	}
	r = s.mustCLI(t, "package", "update", id, "--user-data", "team=red", "--unset-user-data", "owner", "-f", "json")
	var mods map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &mods); err != nil || mods["User Defined Data"] == nil {
		t.Fatalf("update -f json: %v\n%s", err, r.stdout)
	}
	if ud := api().UserDefinedData; !reflect.DeepEqual(ud, map[string]any{"team": "red"}) {
		t.Fatalf("user defined data now %v", ud)
	}

	other := s.apiCreate(t, nil)
	r = s.mustCLI(t, "package", "delete", id, other)
	if !strings.Contains(r.stdout, "All specified vnf-package(s) deleted successfully") {
		t.Fatalf("delete: %s", r)
	}
	for _, gone := range []string{id, other} {
		if status, _, _ := s.api(t, http.MethodGet, "/vnf_packages/"+gone, nil); status != http.StatusNotFound {
			t.Fatalf("%s still there: %d", gone, status)
		}
	}
	// Several ids, one unknown: every one is tried, exit 1.
	third := s.apiCreate(t, nil)
	r = s.cli(t, "package", "delete", "no-such-package", third)
	if r.code != exitFailed || !strings.Contains(r.stderr, "no-such-package: Not Found") || !strings.Contains(r.stderr, "failed to delete 1 of 2") {
		t.Fatalf("delete with an unknown id: %s", r)
	}
	if status, _, _ := s.api(t, http.MethodGet, "/vnf_packages/"+third, nil); status != http.StatusNotFound {
		t.Fatalf("the known package was not deleted: %d", status)
	}
}

func TestOutputFormats(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	id := s.apiCreate(t, map[string]string{"owner": "x"})

	r := s.mustCLI(t, "package", "show", id, "-f", "value", "-c", "id", "-c", "Onboarding State", "-c", "userDefinedData")
	if want := id + "\nCREATED\n{\"owner\":\"x\"}\n"; r.stdout != want {
		t.Fatalf("show -f value:\n%q\nwant\n%q", r.stdout, want)
	}
	r = s.mustCLI(t, "package", "list", "-f", "value", "-c", "Id", "-c", "usage_state", "-c", "operationalState")
	if want := id + " NOT_IN_USE DISABLED\n"; r.stdout != want {
		t.Fatalf("list -f value:\n%q\nwant %q", r.stdout, want)
	}
	r = s.mustCLI(t, "package", "show", id, "-f", "yaml")
	var y map[string]any
	if err := yaml.Unmarshal([]byte(r.stdout), &y); err != nil || y["ID"] != id || y["Onboarding State"] != "CREATED" {
		t.Fatalf("show -f yaml: %v\n%s", err, r.stdout)
	}
	r = s.mustCLI(t, "package", "list", "-f", "yaml", "-c", "id")
	var ylist []map[string]any
	if err := yaml.Unmarshal([]byte(r.stdout), &ylist); err != nil || len(ylist) != 1 || ylist[0]["Id"] != id {
		t.Fatalf("list -f yaml: %v\n%s", err, r.stdout)
	}
	r = s.mustCLI(t, "package", "list")
	header := regexp.MustCompile(`(?m)^\| Id +\| Vnf Product Name +\| Onboarding State +\| Usage State +\| Operational State +\| Links +\|$`)
	if !header.MatchString(r.stdout) || !strings.Contains(r.stdout, "| "+id+" |") {
		t.Fatalf("list table:\n%s", r.stdout)
	}
	r = s.cli(t, "package", "show", id, "-c", "nonsense")
	if r.code != exitUsage || !strings.Contains(r.stderr, "no such column") {
		t.Fatalf("unknown column: %s", r)
	}
}

func TestErrorsAndExitCodes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r := s.cli(t, "package", "show", "no-such-package")
	if r.code != exitFailed || r.stderr != "vnfpkgm package show: Not Found: VNF package no-such-package does not exist (HTTP 404)\n" {
		t.Fatalf("unknown package: %s", r)
	}

	// Nothing listens on a port just closed.
	l := httptest.NewServer(http.NotFoundHandler())
	dead := l.URL
	l.Close()
	for _, args := range [][]string{{"package", "list"}, {"package", "show", "x"}, {"package", "create"}, {"package", "download", "x", "--file", filepath.Join(t.TempDir(), "f")}} {
		r := cliAt(t, dead, args...)
		if r.code != exitUnreachable || !strings.Contains(r.stderr, "cannot reach the server at "+dead) {
			t.Fatalf("%v against a dead endpoint: %s", args, r)
		}
	}

	// A server that is not vnfpkgmd: the status and the start of its body.
	odd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>gateway says no</html>", http.StatusBadGateway)
	}))
	defer odd.Close()
	r = cliAt(t, odd.URL, "package", "list")
	if r.code != exitFailed || !strings.Contains(r.stderr, "Bad Gateway (HTTP 502): <html>gateway says no</html>") {
		t.Fatalf("non-ProblemDetails error: %s", r)
	}

	file := filepath.Join(t.TempDir(), "pkg.zip")
	os.WriteFile(file, []byte("PK"), 0o644)
	usageCases := [][]string{
		{"package"},
		{"package", "frobnicate"},
		{"package", "show"},
		{"package", "show", "a", "b"},
		{"package", "create", "--user-data", "novalue"},
		{"package", "create", "-f", "xml"},
		{"package", "upload", "x"},
		{"package", "upload", "x", "--path", file, "--url", "http://h/p.zip"},
		{"package", "upload", "x", "--path", file, "--user-name", "u"},
		{"package", "upload", "x", "--path", filepath.Join(t.TempDir(), "absent.zip")},
		{"package", "list", "--all_fields", "--fields", "checksum"},
		{"package", "list", "--frobnicate"},
		{"package", "update", "x"},
		{"package", "update", "x", "--operational-state", "ON"},
		{"package", "delete"},
		{"package", "download", "x", "--connections", "0", "--file", file},
		{"package", "download", "x", "--continue"},
		{"package", "download", "x", "--type", "text/plain"},
		{"package", "download", "x", "--vnfd", "--continue", "--file", file},
		{"artifact", "download", "x"},
		{"vim", "list", "extra"},
		{"vim", "frobnicate"},
		{"compute", "list"},
		{"--endpoint", "ftp://host", "package", "list"},
	}
	for _, args := range usageCases {
		r := s.cli(t, args...)
		if r.code != exitUsage || r.stderr == "" {
			t.Fatalf("%v: want exit 2 with a message: %s", args, r)
		}
	}

	r = s.cli(t, "help")
	for _, want := range []string{"Exit codes", "  3 ", "  2 ", "  1 ", "package download", "--connections", "vim register", "compute allocate", "compute console"} {
		if r.code != exitOK || !strings.Contains(r.stdout, want) {
			t.Fatalf("help lacks %q: %s", want, r)
		}
	}
	for _, args := range [][]string{{"package", "-h"}, {"package", "list", "-h"}, {"package", "download", "--help"}, {"artifact", "download", "-h"}} {
		r := s.cli(t, args...)
		if r.code != exitOK || !strings.Contains(r.stdout, "usage: vnfpkgm") {
			t.Fatalf("%v: %s", args, r)
		}
	}
}

func TestEndpointFromEnvironment(t *testing.T) {
	s := startServer(t)
	id := s.apiCreate(t, nil)
	t.Setenv("VNFPKGM_URL", s.base)
	var out, errOut strings.Builder
	if code := run(t.Context(), []string{"package", "show", id, "-f", "value", "-c", "id"}, &out, &errOut); code != 0 || out.String() != id+"\n" {
		t.Fatalf("exit %d, %q %q", code, out.String(), errOut.String())
	}
	// --endpoint after the command wins over the variable.
	t.Setenv("VNFPKGM_URL", "http://127.0.0.1:1")
	out.Reset()
	if code := run(t.Context(), []string{"package", "show", id, "--endpoint", s.base, "-f", "value", "-c", "id"}, &out, &errOut); code != 0 || out.String() != id+"\n" {
		t.Fatalf("exit %d, %q %q", code, out.String(), errOut.String())
	}
}
