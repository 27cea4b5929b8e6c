package vnfpkgm

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// mergeGap: when ranges are merged, those less than mergeGap bytes apart
// become one part. RFC 9110 14.6 lets a server coalesce ranges "separated by a gap
// that is smaller than the overhead of sending multiple parts": the
// boundary delimiter alone ("\r\n--" and the 60-character boundary
// mime/multipart draws) is 64 bytes, before the part's own header lines.
const mergeGap = 64

// reorderBudget bounds the bytes kept in memory to serve, in the order the
// client asked, ranges of a compressed member that lie before a range
// served earlier (see rangePlan.keep).
const reorderBudget = 1 << 20

// byteRange is a satisfiable range of content: [first, last], inclusive.
type byteRange struct{ first, last int64 }

func (r byteRange) length() int64 { return r.last - r.first + 1 }

// rangePlan is how a Range header is served.
type rangePlan struct {
	// header is the Range header handed to http.ServeContent, "" for the
	// whole content.
	header string
	// keep are the ranges a forward-only reader must keep in memory as it
	// passes them, because they are served after a range further on.
	keep []byteRange
}

// planRanges decides how to serve the Range header h of a request for size
// bytes; sequential content (a compressed member) can only be read
// forwards, anything else seeks at no cost. The plan is:
//   - the whole content (200) when h is not a bytes range set (an
//     unknown unit MUST be ignored, RFC 9110 14.2; an invalid bytes range
//     set MAY be, and a 200 is an answer every client understands), or
//     when more than maxRanges parts would be sent (as Apache's MaxRanges:
//     the whole content costs no more than a plain GET, while a 416 would
//     tell the client that its ranges lie outside the content, which they
//     do not);
//   - "bytes=SIZE-" when no range is satisfiable, the canonical
//     unsatisfiable range: http.ServeContent answers it 416 with
//     Content-Range: bytes */SIZE, after the preconditions that RFC 9110
//     13.2.2 evaluates first (If-Match, If-Range ...);
//   - the ranges as asked, in the client's order (the SHOULD of RFC 9110
//     14.6), when none overlaps another; for sequential content the
//     ranges that lie before one served earlier are kept in memory when
//     the reader passes them, up to reorderBudget bytes, so that the
//     content is still read once;
//   - otherwise the ranges sorted, with the overlapping, adjacent and
//     nearby ones merged (14.6 allows coalescing whatever the order, and
//     14.2 counts overlapping or disordered ranges among the signs of a
//     denial of service): one forward pass serves them.
func planRanges(h string, size int64, maxRanges int, sequential bool) rangePlan {
	ranges, ok := parseRanges(h, size)
	switch {
	case !ok:
		return rangePlan{}
	case len(ranges) == 0:
		return rangePlan{header: "bytes=" + strconv.FormatInt(size, 10) + "-"}
	}
	var plan rangePlan
	if sorted := sortedRanges(ranges); overlap(sorted) {
		ranges = mergeRanges(sorted)
	} else if sequential {
		plan.keep = passedRanges(ranges)
		if total(plan.keep) > reorderBudget {
			ranges, plan.keep = sorted, nil
		}
	}
	if len(ranges) > maxRanges {
		return rangePlan{}
	}
	plan.header = formatRanges(ranges)
	return plan
}

func formatRanges(ranges []byteRange) string {
	var b strings.Builder
	b.WriteString("bytes=")
	for i, r := range ranges {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(r.first, 10))
		b.WriteByte('-')
		b.WriteString(strconv.FormatInt(r.last, 10))
	}
	return b.String()
}

// passedRanges are the ranges that a reader serving ranges in order, only
// forwards, has passed when their turn comes: those after a range that
// starts further on.
func passedRanges(ranges []byteRange) []byteRange {
	var passed []byteRange
	furthest := int64(-1)
	for _, r := range ranges {
		if r.first < furthest {
			passed = append(passed, r)
		}
		furthest = max(furthest, r.first)
	}
	return passed
}

func total(ranges []byteRange) int64 {
	var n int64
	for _, r := range ranges {
		n += r.length()
	}
	return n
}

// parseRanges parses a Range header (RFC 9110 14.1.1: "bytes=" then
// comma-separated first-last, first- or -suffix, with optional blanks
// around the commas) and returns its satisfiable ranges, clamped to size;
// ok is false when h is not a valid bytes range set.
func parseRanges(h string, size int64) (ranges []byteRange, ok bool) {
	unit, set, found := strings.Cut(h, "=")
	if !found || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return nil, false
	}
	specs := 0
	for spec := range strings.SplitSeq(set, ",") {
		spec = strings.Trim(spec, " \t")
		if spec == "" {
			continue // RFC 9110 5.6.1: empty list elements are ignored
		}
		specs++
		first, last, found := strings.Cut(spec, "-")
		if !found {
			return nil, false
		}
		if first == "" { // -suffix: the last bytes
			n, ok := digits(last)
			if !ok {
				return nil, false
			}
			if n > 0 && size > 0 {
				ranges = append(ranges, byteRange{max(size-n, 0), size - 1})
			}
			continue
		}
		start, ok := digits(first)
		if !ok {
			return nil, false
		}
		end := int64(-1)
		if last != "" {
			if end, ok = digits(last); !ok || end < start {
				return nil, false
			}
		}
		if start >= size {
			continue // unsatisfiable, but the others may be
		}
		if end < 0 || end >= size {
			end = size - 1
		}
		ranges = append(ranges, byteRange{start, end})
	}
	return ranges, specs > 0
}

// digits parses a non-empty run of decimal digits (no sign, no blank).
func digits(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// sortedRanges is a copy of ranges sorted by their first byte.
func sortedRanges(ranges []byteRange) []byteRange {
	sorted := slices.Clone(ranges)
	slices.SortFunc(sorted, func(a, b byteRange) int { return cmp.Compare(a.first, b.first) })
	return sorted
}

// overlap reports whether two of the sorted ranges share a byte.
func overlap(sorted []byteRange) bool {
	for i := 1; i < len(sorted); i++ {
		if sorted[i].first <= sorted[i-1].last {
			return true
		}
	}
	return false
}

// mergeRanges merges sorted ranges that overlap or lie less than mergeGap
// bytes apart.
func mergeRanges(sorted []byteRange) []byteRange {
	out := []byteRange{sorted[0]}
	for _, r := range sorted[1:] {
		cur := &out[len(out)-1]
		if gap := r.first - cur.last - 1; gap < mergeGap {
			cur.last = max(cur.last, r.last)
			continue
		}
		out = append(out, r)
	}
	return out
}
