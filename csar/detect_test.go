package csar_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
)

// An archive of another format is refused by name, from its first bytes:
// the operator learns what was uploaded.
func TestOtherArchiveFormatsAreNamed(t *testing.T) {
	for name, head := range map[string]string{
		"7z":  "7z\xbc\xaf\x27\x1c\x00\x04",
		"rar": "Rar!\x1a\x07\x01\x00",
		"xz":  "\xfd7zXZ\x00\x00\x04",
		"bz2": "BZh91AY&SY",
		"zst": "\x28\xb5\x2f\xfd\x24\x00",
	} {
		_, err := open([]byte(head+strings.Repeat("\x00", 600)), csar.Limits{})
		var refused *csar.RefusedError
		if !errors.As(err, &refused) || refused.Problems[0].Code != csar.CodeArchiveUnsupported {
			t.Fatalf("%s: want %s, got %v", name, csar.CodeArchiveUnsupported, err)
		}
		if want := "is a " + name + " archive"; !strings.Contains(refused.Problems[0].Message, want) {
			t.Errorf("%s: the refusal does not say %q: %s", name, want, refused.Problems[0].Message)
		}
	}
}
