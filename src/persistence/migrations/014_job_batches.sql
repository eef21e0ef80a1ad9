-- Batch submissions (page-scraper and sitemap batches) name their jobs with one batch id, so a
-- client follows the batch by its counts instead of polling every job. Partial: jobs submitted
-- one by one carry no batch and no index entry; the column never changes after the insert, so
-- claims and finishes stay heap-only.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS batch_id uuid;
CREATE INDEX IF NOT EXISTS jobs_batch_idx ON jobs (batch_id) WHERE batch_id IS NOT NULL;
