-- Retention of finished jobs: the deleter walks finished jobs of one type oldest first, and every
-- row that points at a job is found by index when the job goes (ON DELETE SET NULL), so a batch
-- of deletes never scans the referencing tables.
CREATE INDEX jobs_finished_idx ON jobs (job_type, finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX sitemap_files_job_idx ON sitemap_files (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX contacts_job_idx ON contacts (job_id) WHERE job_id IS NOT NULL;
