-- Jobs lose their index of finish times. Every finish added an entry to jobs_finished_idx
-- (job_type, finished_at): half of a finish's index entries and a quarter of its WAL, and 400 MB
-- at 10 million finished jobs. Only the per-minute history (the last hour) and retention (jobs
-- older than some days) read it; both now do without:
--   * The history: the status deltas (010_job_status_counts.sql) also carry the minute in which
--     the rows reached their status, and the fold keeps per-minute counts of the last two hours
--     beside the totals. Readers add the folded minutes and the deltas since.
--   * Retention walks the primary key: ids are time-ordered (003_time_ordered_ids.sql), and a job
--     that finished before the cutoff was created before it, so its id is below the smallest id
--     of the cutoff's millisecond.

-- The smallest time-ordered id of the millisecond of `at`: ids compare bytewise, and the first
-- 48 bits of a time-ordered id are its Unix milliseconds.
CREATE FUNCTION sky_uuid_v7_floor(at timestamptz) RETURNS uuid LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT encode(substring(int8send(floor(extract(epoch FROM at) * 1000)::bigint) FROM 3)
                || '\x00000000000000000000'::bytea, 'hex')::uuid
$$;

-- A time-ordered id of a given time (for rows whose creation lies in the past, as when history
-- is imported); sky_uuid_v7() is this at clock_timestamp().
CREATE FUNCTION sky_uuid_v7_at(at timestamptz) RETURNS uuid LANGUAGE sql VOLATILE STRICT AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send(floor(extract(epoch FROM at) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;

-- The minute, in UTC, of the finish a delta counts.
ALTER TABLE job_status_deltas ADD COLUMN minute timestamptz;

CREATE TABLE job_finished_minutes (
    job_type text COLLATE "C" NOT NULL,
    status   task_status NOT NULL,
    minute   timestamptz NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY (job_type, minute, status)
);

CREATE OR REPLACE FUNCTION sky_count_job_statuses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO job_status_deltas (job_type, status, minute, n)
    SELECT job_type, status, date_trunc('minute', finished_at, 'UTC'), count(*)
    FROM new_jobs WHERE finished_at IS NOT NULL GROUP BY 1, 2, 3;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO job_status_deltas (job_type, status, minute, n)
    SELECT job_type, status, minute, sum(d) FROM (
        SELECT job_type, status, date_trunc('minute', finished_at, 'UTC') AS minute, 1 AS d
        FROM new_jobs WHERE finished_at IS NOT NULL
        UNION ALL
        SELECT job_type, status, date_trunc('minute', finished_at, 'UTC'), -1
        FROM old_jobs WHERE finished_at IS NOT NULL) changed
    GROUP BY 1, 2, 3 HAVING sum(d) <> 0;
  ELSE
    INSERT INTO job_status_deltas (job_type, status, minute, n)
    SELECT job_type, status, date_trunc('minute', finished_at, 'UTC'), -count(*)
    FROM old_jobs WHERE finished_at IS NOT NULL GROUP BY 1, 2, 3;
  END IF;
  RETURN NULL;
END $$;

-- No writes while the last two hours are counted, so the first minutes and the deltas agree.
-- Deltas appended before this migration carry no minute: they are in the rows counted here.
LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE;

INSERT INTO job_finished_minutes (job_type, status, minute, n)
SELECT job_type, status, date_trunc('minute', finished_at, 'UTC'), count(*)
FROM jobs WHERE finished_at >= now() - interval '2 hours' GROUP BY 1, 2, 3;

DROP INDEX jobs_finished_idx;
