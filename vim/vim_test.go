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

// TestCheckConfig: options a type does not declare are refused by name,
// prefixes match only with something after them, and the type's Check
// runs after the names are known good.
func TestCheckConfig(t *testing.T) {
	checked := 0
	RegisterType("test-options", Definition{
		Open:    func(ctx context.Context, cfg Config) (Driver, error) { return capsDriver{}, nil },
		Options: []Option{{Name: "size"}, {Name: "header."}},
		Check: func(ctx context.Context, cfg Config) error {
			checked++
			if cfg.Options["size"] == "huge" {
				return OptionErrorf("size", "too big")
			}
			return nil
		},
	})
	ctx := context.Background()
	for _, tc := range []struct {
		opts    map[string]string
		option  string
		unknown bool
	}{
		{map[string]string{"size": "1", "header.X-A": "b"}, "", false},
		{map[string]string{"sise": "1"}, "sise", true},
		{map[string]string{"header.": "b"}, "header.", true},
		{map[string]string{"size": "huge"}, "size", false},
	} {
		err := CheckConfig(ctx, "test-options", Config{Options: tc.opts})
		var oe *OptionError
		switch {
		case tc.option == "" && err != nil:
			t.Errorf("%v: %v", tc.opts, err)
		case tc.option != "" && (!errors.As(err, &oe) || oe.Option != tc.option || oe.Unknown != tc.unknown || !errors.Is(err, ErrInvalid)):
			t.Errorf("%v: %v, want an OptionError for %q (unknown %v)", tc.opts, err, tc.option, tc.unknown)
		}
	}
	if checked != 2 {
		t.Errorf("Check ran %d times, want 2 (not for unknown options)", checked)
	}
	if err := CheckConfig(ctx, "no-such-type", Config{}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("unknown type: %v", err)
	}
}
