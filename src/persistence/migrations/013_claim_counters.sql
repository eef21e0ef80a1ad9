-- A fencing token that only grows. Every write after a claim was fenced on (locked_by,
-- attempts), but an operator's requeue resets attempts and a drain gives an attempt back, so a
-- stale worker of the same node could match a later claim of the same row. Each claim now
-- increments a counter that nothing resets, and the finishes match it. No index holds it, so a
-- claim's update stays heap-only; a column with a constant default costs no table rewrite.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS claims bigint NOT NULL DEFAULT 0;
ALTER TABLE places_staging ADD COLUMN IF NOT EXISTS claims bigint NOT NULL DEFAULT 0;
ALTER TABLE local_businesses ADD COLUMN IF NOT EXISTS claims bigint NOT NULL DEFAULT 0;
ALTER TABLE sitemap_files ADD COLUMN IF NOT EXISTS claims bigint NOT NULL DEFAULT 0;
ALTER TABLE domains ADD COLUMN IF NOT EXISTS metadata_claims bigint NOT NULL DEFAULT 0;
ALTER TABLE domains ADD COLUMN IF NOT EXISTS sitemap_analysis_claims bigint NOT NULL DEFAULT 0;
