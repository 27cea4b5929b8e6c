// Package storage keeps VNF packages: a row per package in a SQL database
// (SQLite by default, through gorm) and the package content in a blob
// store (storage/blob). It knows the SOL 005 state values it stores, but
// not the SOL 005 representations: it never imports the vnfpkgm packages,
// and the nested parts of VnfPkgInfo are JSON documents it stores as given.
//
// # Schema
//
// vnf_packages (Package), one row per package:
//
//	id                  text PK          the package id (UUID)
//	seq                 integer UNIQUE   creation order, for paging (see below)
//	revision            integer          bumped by every update (compare-and-set)
//	vnfd_id, vnf_provider, vnf_product_name, vnf_software_version,
//	vnfd_version, onboarding_state, operational_state, usage_state
//	                    text NOT NULL    '' when absent; each with an index on (column, seq)
//	onboarded_vnfd_id   text UNIQUE      = vnfd_id while ONBOARDED, else NULL
//	package_security_option, signing_certificate   text
//	checksum, software_images, additional_artifacts, user_defined_data,
//	onboarding_failure_details, compatible_specification_versions,
//	vnfm_info           text (JSON)      NULL when absent
//	content_key         text UNIQUE      blob key of the uploaded content, NULL before
//	content_size, content_checksum, content_etag, content_uploaded_at
//	created_at, updated_at
//
// jobs (Job): id, package_id (FK, ON DELETE CASCADE), kind, state
// (queued/running/done/failed), active_key (UNIQUE, "<package>/<kind>" while
// queued or running, else NULL), payload (JSON), attempts, run_after,
// lease_owner, lease_expires_at, last_error, created_at, updated_at;
// indexes (state, run_after) and (state, lease_expires_at) for claiming.
//
// sequences: name, value. The counter behind vnf_packages.seq.
//
// schema_migrations: name ("<version>" of a numbered step, or
// "table:<table>" of a model's table), applied_at. See Migrations.
//
// # Engines
//
// SQLite (the default, a file) or PostgreSQL (a postgres:// DSN, see
// OpenPostgres), the same schema and statements on both. The JSON columns
// are text on both (documents are kept as written); PostgreSQL's filter
// conditions read them as jsonb (filtersql_postgres.go). Times are kept
// to the microsecond, PostgreSQL's resolution. The tests run on both
// (runOnEngines in the tests).
//
// # Migrations
//
// The schema is changed only by versioned, forward-only steps
// (migrations.go), applied at Open in one transaction under a lock (a
// PostgreSQL advisory lock; SQLite's write lock), so replicas starting
// together migrate once, and recorded in schema_migrations. Step 1 is the
// schema of the releases before steps existed: on a database of one of
// those (tables, no schema_migrations) it does what they did at every
// start (gorm AutoMigrate of the same models) and records the baseline.
//
// To change the schema:
//
//   - A new table: add its model to the list in DB.migrate (db.go). A
//     database without the table gets it, created from the model, and the
//     record "table:<name>"; nothing else is needed.
//   - A new field of a listed model (a column): append a step to
//     migrations, e.g. {3, "packages: signature", AddColumns(&Package{},
//     "Signature")}. A database created afterwards already has the column
//     (tables are created from the models), which AddColumns skips. Open
//     refuses to start, naming the column, when a model has a field its
//     table lacks, so a forgotten step shows at once.
//   - A new index declared in struct tags: a step with AddIndexes; any
//     other change (data, a dropped column): a step with its own function
//     of the *gorm.DB transaction, written for both engines.
//
// Never edit a step that has shipped.
//
// # Choices
//
// vnfdId unique among ONBOARDED packages: a column onboarded_vnfd_id that
// the repository sets to vnfd_id when (and only when) a write leaves the
// package ONBOARDED, with a plain unique index. NULLs never collide in a
// unique index on SQLite, PostgreSQL and MySQL alike, so this needs no
// partial index (which MySQL lacks and gorm migrates differently per
// dialect), and it doubles as the index of the SOL 003 lookup of the
// onboarded package by vnfdId (GetOnboardedPackage). The same device gives
// "one active job of a kind per package" (jobs.active_key).
//
// Paging order: seq comes from the sequences row, incremented in the
// transaction that inserts the package. The row lock makes seq follow
// commit order on any database (SQLite serialises writers anyway), so a
// scan resumed from a cursor never misses a row committed before it, nor
// sees one twice, whatever is inserted meanwhile; a database sequence or
// autoincrement would only give allocation order. Creating packages is
// rare enough for the serialisation not to matter.
//
// Compare-and-set: every update reads the row, checks its precondition,
// and writes back with WHERE id = ? AND revision = ?, checking the rows
// affected; on a lost race it reads again and re-checks (UpdatePackageIf).
// No lock is held between the read and the write, nothing is SQLite
// specific, and concurrent replicas are as safe as concurrent goroutines.
//
// Portability: apart from the driver set-up in sqlite.go and postgres.go
// (DSN parameters, PRAGMA checks, ANALYZE), every statement is built by gorm from
// conditions written in portable SQL: no RETURNING, no INSERT OR IGNORE,
// no date functions (times are computed in Go, always UTC, so that
// SQLite's text timestamps compare correctly), no partial indexes,
// IN lists rather than array parameters. FromGorm accepts another dialect.
//
// Durability and crashes: SQLite runs with WAL and synchronous=FULL, the
// blob store fsyncs files and directories. The orderings that keep rows
// and blobs consistent are: the blob is committed before a row refers to it
// (upload), and a row stops referring to a blob before the blob is deleted
// (package deletion). A crash between the two steps leaves an unreferenced
// blob, never a row pointing at nothing, and Reconcile removes the orphan.
// Reconcile also repairs rows whose blob went missing anyway (lost disk,
// manual deletion) and resumes onboarding: see its documentation for the
// rules.
//
// # Protocols for the SOL 005 layer
//
// Upload (PUT package_content): UpdatePackageIf(InOnboarding(CREATED)) to
// UPLOADING (a concurrent second upload gets ErrConflict, i.e. 409); stream
// the body into a blob Writer through a hash; Commit under NewContentKey(id);
// then, in one Tx, UpdatePackageIf(Expect{Revision: the UPLOADING
// revision}) to PROCESSING with the content fields, and EnqueueJob(onboard).
// If that fails, delete the blob; if the stream fails, Abort and go back to
// CREATED. An upload lasting more than ReconcileOptions.StaleUpload
// refreshes its row now and then (UpdatePackageIf with a nil mutate).
//
// Onboarding worker: ClaimJob(owner, lease); RenewLease while working;
// finish with one Tx doing UpdatePackageIf(InOnboarding(PROCESSING)) to
// ONBOARDED or ERROR and CompleteJob (a worker that lost its lease gets
// ErrConflict and changes nothing). ErrVnfdIDOnboarded from the update
// means another package already has the vnfdId: record ERROR instead.
//
// Delete: DeletePackage(Expect{OperationalState: DISABLED, UsageState:
// NOT_IN_USE}), then Delete the returned ContentKey from the blob store.
//
// Listing: ScanPackages with the filter described as a Where (filtersql.go
// compiles it to SQL, JSON members included, with the semantics of the
// SOL 013 evaluator); the caller still applies its filter to what the scan
// yields (cheap: the scan returns only matches, plus the rows of the rare
// conditions the database leaves out, see DB.Evaluates), and the page
// marker is the Cursor of the last package put on the page. JSON
// conditions use the database's JSON functions through jsonDialect
// (SQLite's JSON1, PostgreSQL's jsonb); on another database every
// condition is left to the caller.
package storage
