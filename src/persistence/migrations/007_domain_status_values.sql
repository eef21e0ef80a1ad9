-- domains.status (the domain metadata queue) takes the seeds' DomainExtractionStatusEnum values
-- (Queued, Processing, Completed, Error), which the seeds' authoritative enum list names for the
-- domain scheduler; the lowercase domain_status_enum goes. Objects that name the old values are
-- dropped first and made again on the new ones.
DROP TRIGGER domains_metadata_queued_notify ON domains;
DROP INDEX domains_metadata_queued_idx;
DROP INDEX domains_status_idx;

ALTER TABLE domains ALTER COLUMN status DROP DEFAULT;
ALTER TABLE domains ALTER COLUMN status TYPE domain_extraction_status_enum
  USING (CASE status::text WHEN 'pending' THEN 'Queued'
                           WHEN 'processing' THEN 'Processing'
                           WHEN 'completed' THEN 'Completed'
                           ELSE 'Error' END)::domain_extraction_status_enum;
ALTER TABLE domains ALTER COLUMN status SET DEFAULT 'Queued';
DROP TYPE domain_status_enum;

CREATE INDEX domains_metadata_queued_idx ON domains (metadata_next_attempt_at)
    WHERE status = 'Queued';
CREATE INDEX domains_status_idx ON domains (status, created_at DESC);
CREATE TRIGGER domains_metadata_queued_notify AFTER INSERT OR UPDATE OF status ON domains
  FOR EACH ROW WHEN (NEW.status = 'Queued') EXECUTE FUNCTION sky_notify_queued('domain_metadata');
