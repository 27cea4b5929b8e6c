package sol013

import (
	"errors"
	"strings"
	"testing"
)

var checksumSchema = Object(Fields{"algorithm": String(), "hash": String()})

// testSchema is VnfPkgInfo as SOL 005 defines it.
var testSchema = Object(Fields{
	"id":                              String(),
	"vnfdId":                          String(),
	"vnfProvider":                     String(),
	"vnfProductName":                  String(),
	"vnfSoftwareVersion":              String(),
	"vnfdVersion":                     String(),
	"compatibleSpecificationVersions": ArrayOf(String()),
	"checksum":                        checksumSchema,
	"packageSecurityOption":           Enum("OPTION_1", "OPTION_2"),
	"softwareImages": ArrayOf(Object(Fields{
		"id":              String(),
		"name":            String(),
		"checksum":        checksumSchema,
		"isEncrypted":     Boolean(),
		"containerFormat": Enum("AKI", "AMI", "ARI", "BARE", "DOCKER", "OVA", "OVF"),
		"diskFormat":      Enum("AKI", "AMI", "ARI", "ISO", "QCOW2", "RAW", "VDI", "VHD", "VHDX", "VMDK"),
		"createdAt":       DateTime(),
		"minDisk":         Integer(),
		"minRam":          Integer(),
		"size":            Integer(),
		"userMetadata":    FreeForm(),
	})),
	"additionalArtifacts": ArrayOf(Object(Fields{
		"artifactPath": String(),
		"checksum":     checksumSchema,
		"metadata":     FreeForm(),
	})),
	"onboardingState":  Enum("CREATED", "UPLOADING", "PROCESSING", "ONBOARDED", "ERROR"),
	"operationalState": Enum("ENABLED", "DISABLED"),
	"usageState":       Enum("IN_USE", "NOT_IN_USE"),
	"userDefinedData":  FreeForm(),
	"ratio":            Number(),
	"_links": Object(Fields{
		"self": Object(Fields{"href": String()}),
	}),
})

func TestValidateAccepts(t *testing.T) {
	for _, expr := range []string{
		"(eq,vnfProvider,Acme)",
		"(cont,vnfProductName,x);(gt,vnfdVersion,1)",
		"(eq,softwareImages/checksum/algorithm,sha-512)",
		"(eq,compatibleSpecificationVersions,2.6.1)",
		"(in,onboardingState,CREATED,ONBOARDED)",
		"(nin,softwareImages/diskFormat,QCOW2,RAW)",
		"(cont,onboardingState,BOARD)", // substring of an enumeration
		"(eq,softwareImages/isEncrypted,true);(neq,softwareImages/isEncrypted,FALSE)",
		"(gt,softwareImages/size,1000);(lte,softwareImages/minDisk,-3)",
		"(gte,ratio,0.5);(in,ratio,1,2e3,-1.5E-3)",
		"(gt,softwareImages/createdAt,2024-01-01T00:00:00Z)",
		"(lt,softwareImages/createdAt,2024-01-01T00:00:00.5+02:00)",
		"(eq,userDefinedData/anything/at/all,x);(gt,userDefinedData/n,zz)",
		"(eq,softwareImages/userMetadata/k,v)",
		"(eq,_links/self/href,x)",
	} {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", expr, err)
		}
		if err := f.Validate(testSchema); err != nil {
			t.Errorf("Validate(%q): %v", expr, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	cases := []struct {
		expr string
		pos  int
		msg  string
	}{
		{"(eq,vnfprovider,Acme)", 5, `unknown attribute "vnfprovider"`},
		{"(eq,vnfProvider,a);(eq,softwareImages/checksum/algo,x)", 24, `softwareImages/checksum has no attribute "algo" (it has algorithm, hash)`},
		{"(eq,vnfdId/x,y)", 5, "vnfdId is a string and has no attributes"},
		{"(eq,checksum,x)", 5, "is a structure; filter on one of its attributes (algorithm, hash)"},
		{"(eq,softwareImages,x)", 5, "is a structure"},
		{"(gt,softwareImages/size,big)", 25, `"big" is not an integer`},
		{"(in,softwareImages/size,1,2.5)", 27, `"2.5" is not an integer`},
		{"(eq,ratio,1,5)", 13, "exactly one value"}, // syntax first
		{"(eq,ratio,abc)", 11, `"abc" is not a number`},
		{"(eq,ratio,NaN)", 11, "is not a number"},
		{"(eq,ratio,0x10)", 11, "is not a number"},
		{"(eq,ratio,+1)", 11, "is not a number"},
		{"(eq,ratio,1 )", 11, "is not a number"},
		{"(eq,ratio,1.)", 11, "is not a number"},
		{"(eq,softwareImages/size,+5)", 25, "is not an integer"},
		{"(cont,ratio,1)", 7, "applies to strings"},
		{"(ncont,softwareImages/isEncrypted,t)", 8, "applies to strings"},
		{"(eq,softwareImages/isEncrypted,yes)", 32, "neither true nor false"},
		{"(gt,softwareImages/isEncrypted,true)", 5, "does not apply"},
		{"(eq,onboardingState,onboarded)", 21, `"onboarded" is not a valid value of "onboardingState" (allowed: CREATED, UPLOADING, PROCESSING, ONBOARDED, ERROR)`},
		{"(in,softwareImages/diskFormat,RAW,QCOW)", 35, `"QCOW" is not a valid value`},
		{"(lt,usageState,IN_USE)", 5, "does not apply"},
		{"(gt,softwareImages/createdAt,2024-01-01)", 30, "not an RFC 3339 date-time"},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.expr)
		if err == nil {
			err = f.Validate(testSchema)
		}
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("%s: got %v, want a *FilterError", c.expr, err)
			continue
		}
		if fe.Pos != c.pos || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("%s: column %d %q; want column %d containing %q", c.expr, fe.Pos, fe.Msg, c.pos, c.msg)
		}
	}
}

func TestValidateNoSchema(t *testing.T) {
	f, _ := ParseFilter("(eq,whatever,x)")
	if err := f.Validate(Schema{}); err != nil {
		t.Errorf("zero schema: %v", err)
	}
	var none *Filter
	if err := none.Validate(testSchema); err != nil {
		t.Errorf("nil filter: %v", err)
	}
}

func TestSchemaAccessors(t *testing.T) {
	s, err := testSchema.Lookup("softwareImages")
	if err != nil || s.Kind() != KindArray || s.Elem().Kind() != KindObject {
		t.Fatalf("Lookup(softwareImages) = %v %v", s.Kind(), err)
	}
	if _, ok := s.Elem().Field("diskFormat"); !ok {
		t.Error("Field(diskFormat) missing")
	}
	d, _ := testSchema.Lookup("softwareImages/diskFormat")
	if d.Kind() != KindEnum || len(d.EnumValues()) != 10 {
		t.Errorf("diskFormat: %v %v", d.Kind(), d.EnumValues())
	}
	if !testSchema.Known("userDefinedData/x/y") || testSchema.Known("nope") || testSchema.Known("a//b") {
		t.Error("Known is wrong")
	}
	if (Schema{}).Known("x") {
		t.Error("zero schema knows nothing")
	}
	if KindDateTime.String() != "date-time" || Kind(99).String() != "Kind(99)" {
		t.Error("Kind.String")
	}
}
