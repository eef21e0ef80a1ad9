-- The lease indexes hold a row while it carries a lease (a lease is set exactly while the row
-- is processed: the claim sets both, every way out clears both). Filtered by the status before,
-- they could serve any statement that said "status = processing", and the planner, whose
-- statistics rarely see the short-lived processing rows, chose them to drive the finish of a
-- batch: a scan of every held row per item of the batch. Now only statements that ask about the
-- lease itself (the rescuer, the release at shutdown) use them. (jobs loses its lease index
-- altogether in 005.)

DROP INDEX domains_metadata_leased_idx;
CREATE INDEX domains_metadata_leased_idx ON domains (metadata_lease_expires_at)
    WHERE metadata_lease_expires_at IS NOT NULL;

DROP INDEX domains_sitemap_leased_idx;
CREATE INDEX domains_sitemap_leased_idx ON domains (sitemap_analysis_lease_expires_at)
    WHERE sitemap_analysis_lease_expires_at IS NOT NULL;

DROP INDEX places_staging_leased_idx;
CREATE INDEX places_staging_leased_idx ON places_staging (lease_expires_at)
    WHERE lease_expires_at IS NOT NULL;

DROP INDEX local_businesses_leased_idx;
CREATE INDEX local_businesses_leased_idx ON local_businesses (lease_expires_at)
    WHERE lease_expires_at IS NOT NULL;

DROP INDEX sitemap_files_leased_idx;
CREATE INDEX sitemap_files_leased_idx ON sitemap_files (lease_expires_at)
    WHERE lease_expires_at IS NOT NULL;
