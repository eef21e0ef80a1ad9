-- Indexes of finished rows, so that the per-minute history of GET /api/v3/queues/history reads
-- the rows that finished in its window and nothing else, however large the tables grow.
--   * jobs: jobs_finished_idx, (job_type, finished_at) where finished_at is set, made for
--     retention in 008_jobs_retention.sql, serves the history too. A claim and a lease renewal
--     change neither column, so they stay HOT (005_hot_job_claims.sql).
--   * the other queues' tables have no finish time of their own; a finished row's updated_at is
--     the time of its last change. Their status columns are already indexed (queued indexes), so
--     their claims and finishes were never HOT; these partial indexes take an entry only when a
--     row enters a final status.
CREATE INDEX places_staging_finished_idx ON places_staging (updated_at)
    WHERE deep_scan_status IN ('Completed', 'Error');
CREATE INDEX local_businesses_finished_idx ON local_businesses (updated_at)
    WHERE domain_extraction_status IN ('Completed', 'Error');
CREATE INDEX domains_metadata_finished_idx ON domains (updated_at)
    WHERE status IN ('Completed', 'Error');
CREATE INDEX domains_sitemap_finished_idx ON domains (updated_at)
    WHERE sitemap_analysis_status IN ('Completed', 'Error');
CREATE INDEX sitemap_files_finished_idx ON sitemap_files (updated_at)
    WHERE sitemap_import_status IN ('Completed', 'Error');
