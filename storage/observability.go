package storage

// This file holds what /metrics and /readyz ask the database: the jobs
// per kind and state (the cluster's view, read at scrape time) and the
// migrations a replica's code expects but the database lacks.

import (
	"context"
	"fmt"
	"slices"
)

// JobCount is how many jobs of a kind are in a state.
type JobCount struct {
	Kind  string
	State JobState
	Count int64
}

// CountActiveJobs counts the queued and running jobs by kind and state.
func (db *DB) CountActiveJobs(ctx context.Context) ([]JobCount, error) {
	var counts []JobCount
	err := db.ctx(ctx).Model(&Job{}).Select("kind, state, COUNT(*) AS count").
		Where("state IN ?", []JobState{JobQueued, JobRunning}).Group("kind, state").Scan(&counts).Error
	if err != nil {
		return nil, dbErr("count jobs", err)
	}
	return counts, nil
}

// PendingMigrations names the numbered migrations of this build that the
// database has not recorded: a replica older than the schema, or a
// database another process has not finished migrating, is not ready.
func (db *DB) PendingMigrations(ctx context.Context) ([]string, error) {
	var applied []string
	if err := db.ctx(ctx).Model(&schemaMigration{}).Pluck("name", &applied).Error; err != nil {
		return nil, dbErr("read migrations", err)
	}
	var pending []string
	for _, m := range migrations {
		if !slices.Contains(applied, fmt.Sprint(m.version)) {
			pending = append(pending, fmt.Sprintf("%d (%s)", m.version, m.name))
		}
	}
	return pending, nil
}
