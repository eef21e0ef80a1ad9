-- Retrying a job queue's errors (POST /api/v3/queues/{queue}/retry-errors) reads its rows in
-- Error, oldest first: since the finish-time index went, that was a scan of every job. Rows in
-- Error are few, so the partial index costs finishes nothing but the errors themselves.
CREATE INDEX IF NOT EXISTS jobs_error_idx ON jobs (job_type, updated_at) WHERE status = 'Error';
