-- Queries on the jobs table.

-- name: jobs_get
-- $2: the result_data cap. Results are cut to it when written; a larger one (stored before the
-- cap existed, or under a larger one) is shown as a note instead of being sent whole.
SELECT id, job_type, status::text, user_id, domain_id, params::text, progress,
       CASE WHEN octet_length(result_data::text) <= $2::bigint THEN result_data::text
            ELSE json_build_object('limits_hit', json_build_array('result_data'),
                                   'result_bytes', octet_length(result_data::text))::text
       END,
       error, attempts, last_error, created_at::text, updated_at::text, finished_at::text,
       batch_id::text
FROM jobs WHERE id = $1

-- name: jobs_lock_status
SELECT status::text, user_id::text FROM jobs WHERE id = $1::uuid FOR UPDATE

-- name: jobs_cancel_queued
-- A job that has not started never will.
UPDATE jobs SET status = 'Cancelled', finished_at = now(), updated_at = now(),
       locked_by = NULL, lease_expires_at = NULL
WHERE id = $1::uuid

-- name: jobs_request_cancel
-- A running job stops at its next check (its worker sees the flag on lease renewal).
UPDATE jobs SET cancel_requested = true, updated_at = now() WHERE id = $1::uuid

-- name: jobs_requeue
-- Retry a finished-unsuccessfully job from scratch.
UPDATE jobs SET status = 'Queued', attempts = 0, cancel_requested = false, error = NULL,
       last_error = NULL, progress = 0, result_data = NULL, finished_at = NULL,
       next_attempt_at = now(), updated_at = now()
WHERE id = $1::uuid

-- name: jobs_insert
-- $1 type, $2 user id, $3 domain id, $4 params
INSERT INTO jobs (job_type, user_id, domain_id, params)
VALUES ($1, $2::uuid, $3::uuid, $4::jsonb)
RETURNING id::text

-- name: jobs_insert_many
-- One statement for a whole batch, its jobs named by one new batch id; ids come back in the order
-- of the input, each with the batch id.
-- $1 type, $2 user id, $3 domain ids (text[], NULL elements allowed), $4 params (text[])
WITH batch AS MATERIALIZED (SELECT sky_uuid_v7() AS id),
input AS MATERIALIZED (
  SELECT sky_uuid_v7() AS id, d::uuid AS domain_id, p::jsonb AS params, n
  FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS u(d, p, n)),
inserted AS (
  INSERT INTO jobs (id, job_type, user_id, domain_id, params, batch_id)
  SELECT input.id, $1, $2::uuid, domain_id, params, batch.id FROM input, batch ORDER BY n)
SELECT input.id::text, batch.id::text FROM input, batch ORDER BY n

-- name: jobs_insert_page_batch
-- Page scrapes of one batch, each due at its host's next politeness slot (host_schedule): page r
-- of a host is due r slots after the host's earlier pages end, or now. A booking starts at most an
-- hour ahead: slots of pages cancelled or deleted meanwhile are never given back, and past an hour
-- a host's new pages join its backlog rather than wait behind all of it. Hosts are booked in name
-- order, so concurrent batches lock their rows in one order. Ids come back in input order, each
-- with the batch id.
-- $1 user id, $2 params (text[]), $3 hosts (text[]), $4 slot seconds
WITH batch AS MATERIALIZED (SELECT sky_uuid_v7() AS id),
input AS MATERIALIZED (
  SELECT sky_uuid_v7() AS id, p::jsonb AS params, h AS host, n,
         row_number() OVER (PARTITION BY h ORDER BY n) - 1 AS r
  FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(p, h, n)),
hosts AS MATERIALIZED (SELECT host, count(*) AS c FROM input GROUP BY host),
booked AS (
  INSERT INTO host_schedule AS s (host, next_at)
  SELECT host, now() + make_interval(secs => c * $4::float8) FROM hosts ORDER BY host
  ON CONFLICT (host) DO UPDATE
    SET next_at = least(greatest(s.next_at, now()), now() + interval '1 hour')
                  + (EXCLUDED.next_at - now())
  RETURNING s.host, s.next_at),
inserted AS (
  INSERT INTO jobs (id, job_type, user_id, params, batch_id, next_attempt_at)
  SELECT i.id, 'page_scrape', $1::uuid, i.params, batch.id,
         b.next_at - make_interval(secs => (h.c - i.r) * $4::float8)
  FROM input i JOIN booked b USING (host) JOIN hosts h USING (host) CROSS JOIN batch
  ORDER BY i.n)
SELECT input.id::text, batch.id::text FROM input, batch ORDER BY n

-- name: host_schedule_forget
-- Hosts whose booked slots ended long ago carry no information. $1 most rows
DELETE FROM host_schedule WHERE host IN (
  SELECT host FROM host_schedule WHERE next_at < now() - interval '1 hour' LIMIT $1)

-- name: jobs_batch_counts
-- A batch's jobs by status, with its type and when it was submitted; no rows: no such batch
-- (or retention has removed all of its jobs). $1 batch id
SELECT status::text, count(*), min(job_type), min(created_at)::text
FROM jobs WHERE batch_id = $1::uuid
GROUP BY status

-- name: jobs_insert_email_scan
-- The partial unique index allows one active scan per domain; a second request gets nothing
-- back here and reads the active one with jobs_active_email_scan. $3: the request's render
-- mode (NULL: the queue's).
INSERT INTO jobs (job_type, user_id, domain_id, params)
SELECT 'email_scan', $1::uuid, d.id,
       jsonb_strip_nulls(jsonb_build_object('domain', d.domain, 'render', $3::text))
FROM domains d WHERE d.id = $2::uuid
ON CONFLICT (domain_id) WHERE job_type = 'email_scan' AND finished_at IS NULL
DO NOTHING
RETURNING id::text

-- name: jobs_active_email_scan
SELECT id::text, status::text FROM jobs
WHERE job_type = 'email_scan' AND domain_id = $1::uuid AND finished_at IS NULL

-- name: domains_exists
SELECT 1 FROM domains WHERE id = $1::uuid

-- name: domains_upsert
-- $1 domains (text[]), $2 user id. Existing domains are returned unchanged.
WITH input AS (SELECT DISTINCT unnest($1::text[]) AS domain),
inserted AS (
    INSERT INTO domains (domain, created_by)
    SELECT domain, $2::uuid FROM input
    ON CONFLICT (domain) DO NOTHING
    RETURNING id, domain)
SELECT i.domain, coalesce(n.id, d.id)::text, n.id IS NOT NULL
FROM input i
LEFT JOIN inserted n ON n.domain = i.domain
LEFT JOIN domains d ON d.domain = i.domain
ORDER BY i.domain

-- name: jobs_delete_finished
-- Retention: finished jobs of one type older than the retention, oldest first, one small batch
-- per statement so that no lock is held long. Walks the primary key up to the cutoff: a job that
-- finished before it was created before it (ids are time-ordered), so the walk reads the jobs
-- created before the cutoff and no later ones. $1 job type, $2 days, $3 most rows
DELETE FROM jobs WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM jobs
  WHERE id < sky_uuid_v7_floor(now() - make_interval(days => $2))
    AND job_type = $1 AND finished_at < now() - make_interval(days => $2)
  ORDER BY id
  LIMIT $3
  FOR UPDATE SKIP LOCKED))

-- name: jobs_finished_counts
-- Finished jobs of one type by status, from the counts kept by 010_job_status_counts.sql: the
-- folded counts plus the deltas appended since. $1 job type
SELECT status::text, sum(n)::bigint FROM (
  SELECT status, n FROM job_status_counts WHERE job_type = $1
  UNION ALL
  SELECT status, n FROM job_status_deltas WHERE job_type = $1) c
GROUP BY status HAVING sum(n) <> 0

-- name: jobs_fold_status_deltas
-- Moves the appended deltas into the counts, and those of the last two hours into the counts per
-- minute (the history reads one), whose older minutes go. One folder at a time (the others
-- skip): the deltas are few, and two folders would only wait on each other's rows.
WITH folder AS (SELECT pg_try_advisory_xact_lock(hashtext('sky_job_status_fold')) AS mine),
moved AS (
  DELETE FROM job_status_deltas WHERE (SELECT mine FROM folder)
  RETURNING job_type, status, minute, n),
totals AS (
  INSERT INTO job_status_counts AS c (job_type, status, n)
  SELECT job_type, status, sum(n) FROM moved GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (job_type, status) DO UPDATE SET n = c.n + EXCLUDED.n),
expired AS (
  DELETE FROM job_finished_minutes
  WHERE (SELECT mine FROM folder) AND minute < now() - interval '2 hours')
INSERT INTO job_finished_minutes AS m (job_type, status, minute, n)
SELECT job_type, status, minute, sum(n) FROM moved
WHERE minute >= now() - interval '2 hours'
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
ON CONFLICT (job_type, minute, status) DO UPDATE SET n = m.n + EXCLUDED.n
