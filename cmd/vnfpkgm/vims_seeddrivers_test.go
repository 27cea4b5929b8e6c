package main

import (
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/cloudhypervisor"
	"github.com/vnfpkgm/vnfpkgm/vim/flintlock"
)

// TestVIMRegisterHelpDocumentsSeedDrivers: `vim register --help` names
// every option of the drivers of the seed's VIMs, with value and default.
func TestVIMRegisterHelpDocumentsSeedDrivers(t *testing.T) {
	_, stdout, stderr := runCLI("vim", "register", "--help")
	help := strings.Join(strings.Fields(stdout+stderr), " ")
	for typ, opts := range map[string][]vim.Option{cloudhypervisor.Type: cloudhypervisor.Options, flintlock.Type: flintlock.Options} {
		if !strings.Contains(help, "Driver options of --type "+typ) {
			t.Errorf("the help has no section for --type %s", typ)
		}
		for _, o := range opts {
			if !strings.Contains(help, " "+o.Name+"="+o.Value+" ") {
				t.Errorf("--type %s: the help does not document %s=%s", typ, o.Name, o.Value)
			}
			if o.Default != "" && !strings.Contains(help, "(default "+o.Default+")") {
				t.Errorf("--type %s: the help does not give the default of %s (%s)", typ, o.Name, o.Default)
			}
		}
	}
}
