package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// parseInterspersed parses flags that may come before or after the
// positional arguments (`validate pkg.zip -o json`), as operators type them.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	output := fs.String("o", "text", "output format: text or json")
	lim := csar.DefaultLimits
	fs.IntVar(&lim.MaxEntries, "max-entries", lim.MaxEntries, "refuse archives with more entries")
	fs.Int64Var(&lim.MaxTotalSize, "max-size", lim.MaxTotalSize, "refuse archives expanding to more bytes")
	fs.Int64Var(&lim.MaxEntrySize, "max-entry-size", lim.MaxEntrySize, "refuse entries larger than this many bytes")
	fs.Float64Var(&lim.MaxRatio, "max-ratio", lim.MaxRatio, "refuse entries compressed beyond this ratio")
	fs.Float64Var(&lim.MaxArchiveRatio, "max-archive-ratio", lim.MaxArchiveRatio, "refuse zip archives whose members expand in all beyond this ratio of the archive size")
	signatures := signatureFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vnfpkgm validate PATH [-o json|text] [limits] [--trust-store F]\n\nVerifies a VNF package: archive, TOSCA.meta, manifest, every digest and its signatures.\nExit codes: 0 valid, 1 invalid, 2 usage or I/O error.\n\nOptions:")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "vnfpkgm validate: exactly one PATH is required")
		fs.Usage()
		return exitUsage
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "vnfpkgm validate: -o must be json or text, not %q\n", *output)
		return exitUsage
	}

	sigOpts, err := signatures()
	if err != nil {
		fmt.Fprintf(stderr, "vnfpkgm validate: %v\n", err)
		return exitUsage
	}
	f, err := os.Open(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "vnfpkgm validate: %v\n", err)
		return exitUsage
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fmt.Fprintf(stderr, "vnfpkgm validate: %v\n", err)
		return exitUsage
	}
	if !st.Mode().IsRegular() {
		fmt.Fprintf(stderr, "vnfpkgm validate: %s is not a regular file\n", pos[0])
		return exitUsage
	}
	rep, err := validate.Package(ctx, f, st.Size(), validate.Options{Limits: lim, Signatures: sigOpts})
	if err != nil {
		fmt.Fprintf(stderr, "vnfpkgm validate: %s: %v\n", pos[0], err)
		return exitUsage
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "vnfpkgm validate: %v\n", err)
			return exitUsage
		}
	} else {
		printReport(stdout, pos[0], rep)
	}
	if !rep.Valid {
		return exitInvalid
	}
	return exitOK
}

// printReport writes the human-readable verdict: the facts, then one line
// per problem in the compiler style editors understand (file:line:col).
func printReport(w io.Writer, name string, rep *validate.Report) {
	verdict := "VALID"
	if !rep.Valid {
		verdict = "INVALID"
	}
	errs, warns := 0, 0
	for _, p := range rep.Problems {
		if p.Severity == csar.SeverityError {
			errs++
		} else {
			warns++
		}
	}
	fmt.Fprintf(w, "%s: %s (%d errors, %d warnings)\n", name, verdict, errs, warns)
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-20s %s\n", k+":", v)
		}
	}
	field("vnfdId", rep.VnfdID)
	field("vnfProvider", rep.VnfProvider)
	field("vnfProductName", rep.VnfProductName)
	field("vnfSoftwareVersion", rep.VnfSoftwareVersion)
	field("vnfdVersion", rep.VnfdVersion)
	field("security option", rep.PackageSecurityOption)
	for _, fl := range rep.Flavours {
		var vdus []string
		for _, v := range fl.VDUs {
			vdus = append(vdus, v.ID)
		}
		field("flavour "+fl.ID, "VDUs: "+strings.Join(vdus, ", "))
	}
	for _, im := range rep.SoftwareImages {
		where := im.ImagePath
		if where == "" {
			where = im.ImageURI
		}
		field("image "+im.ID, fmt.Sprintf("%s %s (%s/%s, %s) %s", im.Name, im.Version, im.ContainerFormat, im.DiskFormat, im.Checksum.Algorithm, where))
	}
	for _, a := range rep.AdditionalArtifacts {
		where := a.ArtifactPath
		if where == "" {
			where = a.ArtifactURI
		}
		field("artifact", fmt.Sprintf("%s (%s)", where, a.Checksum.Algorithm))
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(w, p.String())
	}
}
