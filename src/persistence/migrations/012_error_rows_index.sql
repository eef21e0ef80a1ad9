-- Retrying a job queue's errors (POST /api/v3/queues/{queue}/retry-errors) reads its rows in
-- Error: since the finish-time index went, that was a scan of every job. A job that ended in
-- Error carries its error and its finish time, and no claim or lease renewal writes either
-- column, so the index (unlike one on status or updated_at) leaves those updates heap-only.
CREATE INDEX IF NOT EXISTS jobs_error_idx ON jobs (job_type, finished_at)
  WHERE error IS NOT NULL AND finished_at IS NOT NULL;
