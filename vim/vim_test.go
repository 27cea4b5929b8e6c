package vim

import (
	"context"
	"errors"
	"testing"
)

// capsDriver is a Driver whose Info reports fixed capabilities; the other
// methods are never reached by these tests.
type capsDriver struct {
	Driver
	info Info
}

func (d capsDriver) Info(context.Context) (Info, error) { return d.info, nil }

func TestRegistryAndRequire(t *testing.T) {
	Register("test-caps", func(ctx context.Context, cfg Config) (Driver, error) {
		return capsDriver{info: Info{Type: "test-caps", Capabilities: []Capability{CapImages}}}, nil
	})
	if _, err := Open(context.Background(), "no-such-type", Config{}); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("unknown type: %v", err)
	}
	d, err := Open(context.Background(), "test-caps", Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Require(context.Background(), d, CapImages); err != nil {
		t.Fatalf("a capability it has: %v", err)
	}
	if err := Require(context.Background(), d, CapImages, CapCompute); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("a capability it lacks must be refused: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a type twice must panic")
		}
	}()
	Register("test-caps", nil)
}

func TestChecksumErrorIsErrChecksum(t *testing.T) {
	var err error = &ChecksumError{What: "the bytes sent", Algorithm: "sha512", Expected: "aa", Actual: "bb"}
	if !errors.Is(err, ErrChecksum) || errors.Is(err, ErrNotFound) {
		t.Fatalf("errors.Is: %v", err)
	}
	if !errors.Is(ErrWrongState, ErrConflict) {
		t.Fatal("ErrWrongState is a conflict")
	}
}
