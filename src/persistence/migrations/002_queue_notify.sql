-- Every insert or status change that queues work sends NOTIFY in the same transaction, so the
-- right poller wakes within milliseconds of the commit. The payload is the queue name.

CREATE FUNCTION sky_notify_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'jobs' THEN
    PERFORM pg_notify('sky_queue', CASE NEW.job_type WHEN 'sitemap' THEN 'sitemap_jobs'
                                                     ELSE NEW.job_type END);
  ELSE
    PERFORM pg_notify('sky_queue', TG_ARGV[0]);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER jobs_queued_notify AFTER INSERT OR UPDATE OF status ON jobs
  FOR EACH ROW WHEN (NEW.status = 'Queued') EXECUTE FUNCTION sky_notify_queued();
CREATE TRIGGER places_staging_queued_notify AFTER INSERT OR UPDATE OF deep_scan_status ON places_staging
  FOR EACH ROW WHEN (NEW.deep_scan_status = 'Queued') EXECUTE FUNCTION sky_notify_queued('deep_scan');
CREATE TRIGGER local_businesses_queued_notify AFTER INSERT OR UPDATE OF domain_extraction_status ON local_businesses
  FOR EACH ROW WHEN (NEW.domain_extraction_status = 'Queued') EXECUTE FUNCTION sky_notify_queued('domain_extraction');
CREATE TRIGGER domains_metadata_queued_notify AFTER INSERT OR UPDATE OF status ON domains
  FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION sky_notify_queued('domain_metadata');
CREATE TRIGGER domains_sitemap_queued_notify AFTER INSERT OR UPDATE OF sitemap_analysis_status ON domains
  FOR EACH ROW WHEN (NEW.sitemap_analysis_status = 'Queued') EXECUTE FUNCTION sky_notify_queued('sitemap_submission');
CREATE TRIGGER sitemap_files_queued_notify AFTER INSERT OR UPDATE OF sitemap_import_status ON sitemap_files
  FOR EACH ROW WHEN (NEW.sitemap_import_status = 'Queued') EXECUTE FUNCTION sky_notify_queued('sitemap_import');
