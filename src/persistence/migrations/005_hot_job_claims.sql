-- Claims and lease renewals on jobs become HOT updates (heap-only tuples: the new row version
-- stays on its page and no index gets a new entry). PostgreSQL can do that only when the update
-- changes no column that any index of the table keys on or filters by. So:
--   * one index of active jobs, keyed by (job_type, next_attempt_at) and filtered by
--     finished_at IS NULL, replaces the queued index (filtered by status) and the lease index
--     (keyed by lease_expires_at). A claim changes status, attempts, locked_by and the lease,
--     none of them indexed; it reads past the rows in progress at the front of the index, whose
--     number the engine's concurrency bounds. The rescuer reads the same index; it runs once
--     per interval.
--   * the one-active-email-scan rule filters by finished_at instead of status.
--   * pages are filled to 40 % by inserts, so a claimed row's new version (larger: it now has a
--     holder and a lease) fits beside the old one.
-- Only finishing a job (finished_at is set) and a retry's new due time touch indexes.

-- Active <=> not finished, checked from now on.
UPDATE jobs SET finished_at = updated_at
WHERE finished_at IS NULL AND status NOT IN ('Queued', 'InProgress');
UPDATE jobs SET finished_at = NULL WHERE finished_at IS NOT NULL AND status IN ('Queued', 'InProgress');
ALTER TABLE jobs ADD CONSTRAINT jobs_finished_iff_final
    CHECK ((finished_at IS NULL) = (status IN ('Queued', 'InProgress')));

DROP INDEX jobs_queued_idx;
DROP INDEX jobs_leased_idx;
CREATE INDEX jobs_active_idx ON jobs (job_type, next_attempt_at) WHERE finished_at IS NULL;

DROP INDEX jobs_one_active_email_scan;
CREATE UNIQUE INDEX jobs_one_active_email_scan ON jobs (domain_id)
    WHERE job_type = 'email_scan' AND finished_at IS NULL;

ALTER TABLE jobs SET (fillfactor = 40);
