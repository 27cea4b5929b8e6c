package sol013

import (
	"bytes"
	"encoding/json"
	"testing"
)

const pkgJSON = `{
  "id": "a1b2",
  "vnfdId": "vnfd-1",
  "vnfProvider": "Acme, Inc.",
  "vnfProductName": "it's a VNF",
  "vnfSoftwareVersion": "1.0",
  "vnfdVersion": "2.10",
  "compatibleSpecificationVersions": ["2.6.1", "3.3.1"],
  "checksum": {"algorithm": "SHA-256", "hash": "abcd"},
  "onboardingState": "ONBOARDED",
  "operationalState": "ENABLED",
  "usageState": "NOT_IN_USE",
  "softwareImages": [
    {"id": "VDU1", "name": "cirros", "size": 1000, "minDisk": 0, "isEncrypted": false,
     "createdAt": "2024-01-10T10:00:00Z",
     "checksum": {"algorithm": "sha-256", "hash": "11"}, "containerFormat": "BARE", "diskFormat": "QCOW2"},
    {"id": "VDU2", "name": "ubuntu", "size": 2000000000, "minDisk": 10, "isEncrypted": true,
     "createdAt": "2024-03-01T00:00:00Z",
     "checksum": {"algorithm": "sha-512", "hash": "22"}, "containerFormat": "BARE", "diskFormat": "RAW"}
  ],
  "additionalArtifacts": [
    {"artifactPath": "Scripts/install.sh", "checksum": {"algorithm": "sha-256", "hash": "33"},
     "metadata": {"tags": [["x", "y"], ["z"]]}}
  ],
  "userDefinedData": {"key": "value", "n": 42, "flag": true, "nested": {"deep": "here"}, "nothing": null},
  "_links": {"self": {"href": "http://h/vnfpkgm/v1/vnf_packages/a1b2"}}
}`

func decode(t testing.TB, s string, useNumber bool) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	if useNumber {
		dec.UseNumber()
	}
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMatch(t *testing.T) {
	cases := []struct {
		filter string
		want   bool
	}{
		// strings
		{"(eq,vnfdId,vnfd-1)", true},
		{"(eq,vnfdId,vnfd-2)", false},
		{"(eq,vnfdId,VNFD-1)", false}, // byte-exact
		{"(neq,vnfdId,vnfd-2)", true},
		{"(neq,vnfdId,vnfd-1)", false},
		{"(eq,vnfProvider,'Acme, Inc.')", true},
		{"(eq,vnfProductName,'it''s a VNF')", true},
		{"(in,onboardingState,CREATED,ONBOARDED)", true},
		{"(in,onboardingState,CREATED,ERROR)", false},
		{"(nin,onboardingState,CREATED,ERROR)", true},
		{"(nin,onboardingState,ONBOARDED)", false},
		{"(cont,vnfProvider,cme)", true},
		{"(cont,vnfProvider,xyz,Inc)", true},
		{"(cont,vnfProvider,xyz)", false},
		{"(ncont,vnfProvider,xyz)", true},
		{"(ncont,vnfProvider,xyz,Acme)", false},
		{"(gt,vnfdVersion,2.1)", true}, // lexicographic: "2.10" > "2.1"
		{"(gt,vnfdVersion,2.9)", false},
		{"(lt,vnfdVersion,2.9)", true},
		{"(gte,vnfdVersion,2.10)", true},
		{"(lte,vnfdVersion,2.10)", true},
		{"(lte,vnfdVersion,2.0)", false},
		{"(eq,vnfSoftwareVersion,1.0)", true},
		{"(eq,vnfSoftwareVersion,1)", false}, // a string compares as a string
		// numbers, inside an array
		{"(eq,softwareImages/size,1000)", true},
		{"(eq,softwareImages/size,1e3)", true}, // numerically
		{"(eq,softwareImages/size,1000.0)", true},
		{"(eq,softwareImages/size,1001)", false},
		{"(eq,softwareImages/size,big)", false},
		{"(gt,softwareImages/size,1999999999)", true},
		{"(gt,softwareImages/size,2000000000)", false},
		{"(gte,softwareImages/size,2000000000)", true},
		{"(lt,softwareImages/size,1000)", false},
		{"(lte,softwareImages/size,1000)", true},
		{"(lt,softwareImages/size,abc)", false},
		{"(in,softwareImages/minDisk,5,10)", true},
		{"(nin,softwareImages/minDisk,5,10)", false},
		{"(nin,softwareImages/minDisk,5,7)", true},
		{"(cont,softwareImages/size,100)", false}, // cont applies to strings
		{"(ncont,softwareImages/size,100)", true},
		{"(neq,softwareImages/minDisk,0)", false}, // one element is 0
		{"(neq,softwareImages/minDisk,3)", true},
		{"(eq,userDefinedData/n,42)", true},
		{"(gt,userDefinedData/n,41.5)", true},
		// booleans
		{"(eq,softwareImages/isEncrypted,true)", true},
		{"(eq,softwareImages/isEncrypted,TRUE)", true},
		{"(eq,userDefinedData/flag,false)", false},
		{"(neq,userDefinedData/flag,false)", true},
		{"(eq,userDefinedData/flag,1)", false},
		{"(in,userDefinedData/flag,false,true)", true},
		{"(gt,userDefinedData/flag,false)", false},
		// arrays at several depths
		{"(eq,softwareImages/checksum/algorithm,sha-512)", true},
		{"(eq,softwareImages/checksum/algorithm,sha-384)", false},
		{"(neq,softwareImages/checksum/algorithm,sha-384)", true},
		{"(neq,softwareImages/checksum/algorithm,sha-512)", false}, // no element may equal it
		{"(eq,compatibleSpecificationVersions,3.3.1)", true},
		{"(eq,compatibleSpecificationVersions,2.7.1)", false},
		{"(gt,compatibleSpecificationVersions,3)", true},
		{"(eq,additionalArtifacts/metadata/tags,z)", true}, // array of arrays
		{"(eq,additionalArtifacts/metadata/tags,w)", false},
		{"(cont,additionalArtifacts/artifactPath,install)", true},
		{"(gt,softwareImages/createdAt,2024-02-01T00:00:00Z)", true},
		{"(gt,softwareImages/createdAt,2024-03-01T00:00:00Z)", false},
		// nested objects
		{"(eq,checksum/algorithm,SHA-256)", true},
		{"(eq,userDefinedData/nested/deep,here)", true},
		{"(eq,_links/self/href,http://h/vnfpkgm/v1/vnf_packages/a1b2)", true},
		// absent attributes: positive false, negated true
		{"(eq,missing,x)", false},
		{"(in,missing,x,y)", false},
		{"(cont,missing,x)", false},
		{"(gt,missing,0)", false},
		{"(lt,missing,0)", false},
		{"(gte,missing,0)", false},
		{"(lte,missing,0)", false},
		{"(neq,missing,x)", true},
		{"(nin,missing,x)", true},
		{"(ncont,missing,x)", true},
		{"(eq,userDefinedData/nothing,x)", false}, // null is absent
		{"(neq,userDefinedData/nothing,x)", true},
		{"(eq,checksum/missing,x)", false},
		{"(eq,vnfdId/sub,x)", false}, // a path through a string
		{"(neq,vnfdId/sub,x)", true}, // ... is absent
		{"(eq,softwareImages/checksum/x,y)", false},
		// an object at the end of the path never matches
		{"(eq,checksum,x)", false},
		{"(neq,checksum,x)", true},
		// conjunction
		{"(eq,vnfdId,vnfd-1);(eq,onboardingState,ONBOARDED);(gt,softwareImages/size,10)", true},
		{"(eq,vnfdId,vnfd-1);(eq,onboardingState,CREATED)", false},
	}
	for _, useNumber := range []bool{false, true} {
		res := decode(t, pkgJSON, useNumber)
		for _, c := range cases {
			f, err := ParseFilter(c.filter)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", c.filter, err)
			}
			if got := f.Match(res); got != c.want {
				t.Errorf("UseNumber=%v: %s matched %v, want %v", useNumber, c.filter, got, c.want)
			}
		}
	}
}

func TestMatchGoTypes(t *testing.T) {
	res := map[string]any{
		"i":    int64(7),
		"u":    uint(7),
		"f32":  float32(1.5),
		"ss":   []string{"a", "b"},
		"ms":   map[string]string{"k": "v"},
		"objs": []map[string]any{{"n": 1}, {"n": 2}},
		"s":    struct{ A string }{"x"},
	}
	cases := []struct {
		filter string
		want   bool
	}{
		{"(eq,i,7)", true}, {"(gt,u,6)", true}, {"(eq,f32,1.5)", true},
		{"(eq,ss,b)", true}, {"(eq,ss,c)", false},
		{"(eq,ms/k,v)", true}, {"(eq,ms/x,v)", false},
		{"(eq,objs/n,2)", true}, {"(eq,objs/n,3)", false},
		{"(eq,s/A,x)", false}, {"(eq,s,x)", false},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(res); got != c.want {
			t.Errorf("%s matched %v, want %v", c.filter, got, c.want)
		}
	}
	var none *Filter
	if !none.Match(res) {
		t.Error("nil filter must match")
	}
	// A term built by hand (no compiled values) still matches.
	hand := &Filter{Terms: []Term{{Op: Gt, Attr: "i", Values: []string{"6"}}}}
	if !hand.Match(res) {
		t.Error("hand-built term did not match")
	}
}
