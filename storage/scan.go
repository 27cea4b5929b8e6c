package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Cursor is a position in ScanPackages order (Seq). The zero Cursor is the
// start. Positions are stable: rows created later always come after every
// existing row, so a scan resumed from a cursor never repeats or misses a
// row that existed when the scan started, whatever was inserted meanwhile.
type Cursor struct {
	Seq int64
}

// String is a compact text form of c (for an opaque paging marker the SOL
// 013 layer may encode further).
func (c Cursor) String() string { return strconv.FormatInt(c.Seq, 36) }

// ParseCursor reads what Cursor.String wrote.
func ParseCursor(s string) (Cursor, error) {
	v, err := strconv.ParseInt(s, 36, 64)
	if err != nil || v < 0 {
		return Cursor{}, fmt.Errorf("storage: bad cursor %q", s)
	}
	return Cursor{Seq: v}, nil
}

// Column names an indexed column of vnf_packages usable in an IndexedFilter.
type Column string

// The indexed columns. Each but ID has a (column, seq) index, so a filter
// on it walks the index in scan order.
const (
	ColID                 Column = "id"
	ColVnfdID             Column = "vnfd_id"
	ColVnfProvider        Column = "vnf_provider"
	ColVnfProductName     Column = "vnf_product_name"
	ColVnfSoftwareVersion Column = "vnf_software_version"
	ColVnfdVersion        Column = "vnfd_version"
	ColOnboardingState    Column = "onboarding_state"
	ColOperationalState   Column = "operational_state"
	ColUsageState         Column = "usage_state"
)

var filterColumns = []Column{ColID, ColVnfdID, ColVnfProvider, ColVnfProductName, ColVnfSoftwareVersion,
	ColVnfdVersion, ColOnboardingState, ColOperationalState, ColUsageState}

// ErrBadFilter is returned for an IndexedFilter on a column that is not
// indexed.
var ErrBadFilter = errors.New("storage: column cannot be filtered in the database")

// IndexedFilter is the part of a query the database evaluates: for every
// column in the map, the column's value must be one of the listed values
// (equality is a one-value list); the columns are ANDed. A column with an
// empty list matches nothing; a nil or empty map matches everything. An
// empty string value matches packages where the attribute is absent.
// Conditions it cannot express (neq, gt, cont, nested attributes ...) are
// for the caller to apply to the packages the scan yields.
type IndexedFilter map[Column][]string

// Eq is shorthand for a one-column equality filter.
func Eq(col Column, values ...string) IndexedFilter { return IndexedFilter{col: values} }

// apply adds the filter's conditions to q; empty is true when the filter
// matches nothing.
func (f IndexedFilter) apply(q *gorm.DB) (out *gorm.DB, empty bool, err error) {
	// Fixed column order, so equal filters give equal SQL (statement cache).
	for _, col := range filterColumns {
		vals, ok := f[col]
		if !ok {
			continue
		}
		if len(vals) == 0 {
			return q, true, nil
		}
		if len(vals) == 1 {
			q = q.Where(clause.Eq{Column: clause.Column{Name: string(col)}, Value: vals[0]})
		} else {
			in := make([]any, len(vals))
			for i, v := range vals {
				in[i] = v
			}
			q = q.Where(clause.IN{Column: clause.Column{Name: string(col)}, Values: in})
		}
	}
	for col := range f {
		if !slices.Contains(filterColumns, col) {
			return q, false, fmt.Errorf("%w: %q", ErrBadFilter, col)
		}
	}
	return q, false, nil
}

// ScanFilter is the part of a scan's filter the database evaluates: an
// IndexedFilter or a Where. A nil ScanFilter matches everything.
type ScanFilter interface {
	// apply adds the conditions to q; empty is true when they match nothing.
	apply(q *gorm.DB) (out *gorm.DB, empty bool, err error)
}

// DefaultScanBatch is the batch size ScanPackages uses when given 0.
const DefaultScanBatch = 256

// MaxScanBatch caps the batch size.
const MaxScanBatch = 10000

// ScanPackages calls fn for each package after the cursor that matches
// where (an IndexedFilter, a Where, or nil), in Seq order, reading batch
// rows per query, fewer when they reach MaxBatchBytes (memory is bounded
// by the batch, never by the number or size of packages). fn returns more=false to
// stop, or an error to stop with that error. It returns the cursor of the
// last package given to fn (after, if none), from which a later scan
// resumes.
//
// Each batch is its own query and no query is open while fn runs, so fn
// may write to the database. Each package given to fn is a fresh value fn
// may keep.
func (db *DB) ScanPackages(ctx context.Context, after Cursor, batch int, where ScanFilter,
	fn func(*Package) (more bool, err error)) (Cursor, error) {
	return scan(db.ctx(ctx), ctx, after, batch, where, packageColumns, (*Package).scanDest, fn)
}

// packageColumns are the columns of vnf_packages in the order scanDest
// reads them (TestPackageColumns keeps the two and the model in step).
var packageColumns = []string{
	"id", "seq", "revision",
	"vnfd_id", "vnf_provider", "vnf_product_name", "vnf_software_version", "vnfd_version",
	"onboarding_state", "operational_state", "usage_state", "onboarded_vnfd_id",
	"package_security_option", "signing_certificate",
	"checksum", "software_images", "additional_artifacts", "user_defined_data",
	"onboarding_failure_details", "compatible_specification_versions", "vnfm_info",
	"content_key", "content_size", "content_checksum", "content_etag", "content_uploaded_at", "upload_digests",
	"created_at", "updated_at",
}

// scanDest is where a row of packageColumns goes. Scanning by hand rather
// than through gorm's reflection halves the cost of a scan.
func (p *Package) scanDest() []any {
	return []any{
		&p.ID, &p.Seq, &p.Revision,
		&p.VnfdID, &p.VnfProvider, &p.VnfProductName, &p.VnfSoftwareVersion, &p.VnfdVersion,
		&p.OnboardingState, &p.OperationalState, &p.UsageState, &p.OnboardedVnfdID,
		&p.PackageSecurityOption, &p.SigningCertificate,
		&p.Checksum, &p.SoftwareImages, &p.AdditionalArtifacts, &p.UserDefinedData,
		&p.OnboardingFailureDetails, &p.CompatibleSpecificationVersions, &p.VnfmInfo,
		&p.ContentKey, &p.ContentSize, &p.ContentChecksum, &p.ContentETag, &p.ContentUploadedAt, &p.UploadDigests,
		&p.CreatedAt, &p.UpdatedAt,
	}
}

// scan runs the batched scan over q (a query on vnf_packages, possibly with
// conditions of its own), reading columns into dest.
func scan(q *gorm.DB, ctx context.Context, after Cursor, batch int, where ScanFilter,
	columns []string, dest func(*Package) []any, fn func(*Package) (bool, error)) (Cursor, error) {
	if batch <= 0 {
		batch = DefaultScanBatch
	}
	batch = min(batch, MaxScanBatch)
	query, empty, err := scanQuery(q, where, columns, batch)
	if err != nil || empty {
		return after, err
	}
	cur := after
	for {
		rows, full, err := readBatch(query(cur), batch, dest)
		if err != nil {
			return cur, dbErr("scan packages", err)
		}
		for i := range rows {
			more, err := fn(&rows[i])
			cur = rows[i].Cursor()
			if err != nil || !more {
				return cur, err
			}
		}
		if len(rows) < batch && !full {
			return cur, nil
		}
		if err := ctx.Err(); err != nil {
			return cur, err
		}
	}
}

// scanQuery returns the query of one batch after a cursor. With a Where
// it takes two steps: the Seq of the batch's packages first, by a query
// that reads only seq and the columns the conditions name (which SQLite
// answers from a covering index such as (seq, user_defined_data) without
// reading whole rows), then those rows.
func scanQuery(q *gorm.DB, where ScanFilter, columns []string, batch int) (func(Cursor) *gorm.DB, bool, error) {
	if w, ok := where.(Where); ok && len(w) > 0 {
		seqs, empty, err := w.apply(q.Model(&Package{}).Select("seq"))
		if err != nil || empty {
			return nil, empty, err
		}
		return func(cur Cursor) *gorm.DB {
			inner := seqs.Session(&gorm.Session{}).Where("seq > ?", cur.Seq).Order("seq").Limit(batch)
			return q.Session(&gorm.Session{}).Model(&Package{}).Select(columns).Where("seq IN (?)", inner).Order("seq")
		}, false, nil
	}
	base := q.Model(&Package{}).Select(columns)
	if where != nil {
		var empty bool
		var err error
		if base, empty, err = where.apply(base); err != nil || empty {
			return nil, empty, err
		}
	}
	return func(cur Cursor) *gorm.DB {
		return base.Session(&gorm.Session{}).Where("seq > ?", cur.Seq).Order("seq").Limit(batch)
	}, false, nil
}

// MaxBatchBytes bounds the memory of a scan's batch: a batch ends early
// once the documents of the rows read reach it (a scan then goes on with
// the next query), so big packages (a large userDefinedData) are read a few
// at a time, never batch at a time.
const MaxBatchBytes = 4 << 20

// readBatch runs q and reads all its rows (at most batch, fewer once they
// reach MaxBatchBytes: full is then true) before returning, so that no
// query stays open while the caller works on them.
func readBatch(q *gorm.DB, batch int, dest func(*Package) []any) (out []Package, full bool, err error) {
	rs, err := q.Rows()
	if err != nil {
		return nil, false, err
	}
	defer rs.Close()
	out = make([]Package, 0, min(batch, 64))
	bytes := 0
	for rs.Next() {
		out = append(out, Package{})
		p := &out[len(out)-1]
		if err := rs.Scan(dest(p)...); err != nil {
			return nil, false, err
		}
		if bytes += p.docBytes(); bytes >= MaxBatchBytes {
			return out, true, rs.Err()
		}
	}
	return out, false, rs.Err()
}

// docBytes is the size of p's documents (JSON and long text), the bulk of
// its memory.
func (p *Package) docBytes() int {
	return len(p.Checksum) + len(p.SoftwareImages) + len(p.AdditionalArtifacts) + len(p.UserDefinedData) +
		len(p.OnboardingFailureDetails) + len(p.CompatibleSpecificationVersions) + len(p.VnfmInfo) + len(p.SigningCertificate)
}

// PackagesBySeq calls fn for each package whose Seq is in seqs (ascending),
// in Seq order, reading them in batches bounded like ScanPackages's; a
// package that no longer exists is skipped. It serves the second pass of a
// list page: the first pass chose the packages (and kept only their Seq),
// this one reads them again to send them.
func (db *DB) PackagesBySeq(ctx context.Context, seqs []int64, fn func(*Package) error) error {
	const chunk = 100
	base := db.ctx(ctx).Model(&Package{}).Select(packageColumns)
	for len(seqs) > 0 {
		part := seqs[:min(chunk, len(seqs))]
		rows, full, err := readBatch(base.Session(&gorm.Session{}).Where("seq IN ?", part).Order("seq").Limit(len(part)), len(part), (*Package).scanDest)
		if err != nil {
			return dbErr("read packages", err)
		}
		for i := range rows {
			if err := fn(&rows[i]); err != nil {
				return err
			}
		}
		if !full || len(rows) == 0 {
			seqs = seqs[len(part):]
		} else {
			last := rows[len(rows)-1].Seq
			seqs = seqs[sort.Search(len(seqs), func(i int) bool { return seqs[i] > last }):]
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}
