-- Time-ordered ids (UUID version 7: 48 bits of Unix milliseconds, then random bits). New rows
-- land at the right edge of each primary key, and "newest first" lists walk the primary key
-- backwards, so jobs no longer need a (job_type, created_at) index: every claim and every finish
-- is an update that PostgreSQL cannot make HOT, and each such update inserts into every index of
-- the table, so one index fewer is a large share of the cost of moving a job.

CREATE FUNCTION sky_uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                                FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;

ALTER TABLE jobs ALTER COLUMN id SET DEFAULT sky_uuid_v7();
ALTER TABLE domains ALTER COLUMN id SET DEFAULT sky_uuid_v7();
ALTER TABLE places_staging ALTER COLUMN id SET DEFAULT sky_uuid_v7();
ALTER TABLE local_businesses ALTER COLUMN id SET DEFAULT sky_uuid_v7();
ALTER TABLE sitemap_files ALTER COLUMN id SET DEFAULT sky_uuid_v7();
ALTER TABLE pages ALTER COLUMN id SET DEFAULT sky_uuid_v7();
ALTER TABLE contacts ALTER COLUMN id SET DEFAULT sky_uuid_v7();

DROP INDEX jobs_type_created_idx;

-- job_type is one of four identifiers: compare it bytewise. Under a linguistic collation every
-- descent of the queued and leased indexes (whose first column it is) calls strcoll.
ALTER TABLE jobs ALTER COLUMN job_type TYPE text COLLATE "C";

-- Every claim inserts into the lease index; expired leases are rare, so the rescuer can filter
-- job_type on the few it finds instead of carrying it in every entry.
DROP INDEX jobs_leased_idx;
CREATE INDEX jobs_leased_idx ON jobs (lease_expires_at) WHERE status = 'InProgress';
