-- Queue observability. Table and column names come from config/queue_catalog.cpp: these are
-- templates whose {placeholders} are filled once at start-up from that static catalog, never
-- from input.

-- name: queue_status_counts
-- The full breakdown scans the table, so callers cache it (see http/routes.cpp).
SELECT {status}::text AS status, count(*) AS n
FROM {table}
WHERE {status} IS NOT NULL {job_filter}
GROUP BY {status}

-- name: queue_active_counts
-- Cheap on any table size: each part reads one of the queue's partial indexes (for job
-- queues, the index of active jobs).
SELECT (SELECT count(*) FROM {table} WHERE {status} = '{queued}' {active_filter}),
       (SELECT count(*) FROM {table} WHERE {status} = '{processing}' {active_filter}),
       (SELECT extract(epoch FROM now() - min({next_attempt_at}))::float8 FROM {table}
         WHERE {status} = '{queued}' {active_filter} AND {next_attempt_at} <= now())

-- name: queue_wake
-- Wakes the pollers of a queue on every node, exactly as a committed insert would.
SELECT pg_notify('sky_queue', $1)

-- name: queue_controls_list
SELECT queue, paused, changed_by, changed_at::text FROM queue_controls

-- name: queue_set_paused
-- $1 queue, $2 paused, $3 who
INSERT INTO queue_controls (queue, paused, changed_by, changed_at) VALUES ($1, $2, $3, now())
ON CONFLICT (queue) DO UPDATE SET paused = EXCLUDED.paused, changed_by = EXCLUDED.changed_by,
                                  changed_at = now()

-- name: queue_requeue_one
-- Retry one row in Error (or Cancelled) from scratch. $1 id
UPDATE {table}
SET {status} = '{queued}', {attempts} = 0, {last_error} = NULL, {locked_by} = NULL,
    {lease_expires_at} = NULL, {next_attempt_at} = now(), updated_at = now() {on_requeue}
WHERE id = $1::uuid {job_filter} AND {status}::text IN ('{error}', 'Cancelled')
RETURNING id::text

-- name: queue_requeue_errors
-- Retry the rows in Error, oldest first, at most $3 per call. $1 only those in Error for at least
-- this many seconds (NULL: any), $2 only those whose error contains this text (NULL: any).
WITH picked AS (
  SELECT ctid FROM {table}
  WHERE {status} = '{error}' {job_filter} {error_rows}
    AND ($1::float8 IS NULL OR updated_at <= now() - make_interval(secs => $1::float8))
    AND ($2::text IS NULL OR strpos({last_error}, $2::text) > 0)
  ORDER BY updated_at
  LIMIT $3
  FOR UPDATE SKIP LOCKED
)
UPDATE {table} AS t
SET {status} = '{queued}', {attempts} = 0, {last_error} = NULL, {locked_by} = NULL,
    {lease_expires_at} = NULL, {next_attempt_at} = now(), updated_at = now() {on_requeue}
WHERE t.ctid = ANY(ARRAY(SELECT ctid FROM picked))
RETURNING t.id::text

-- name: queue_cancel_queued
-- Cancel a row still waiting in the queue: jobs end Cancelled; rows of the other tables, whose
-- status types have no Cancelled, end in Error with the reason (and can be retried). $1 id
UPDATE {table}
SET {status} = '{cancelled}', {last_error} = 'cancelled by request', {locked_by} = NULL,
    {lease_expires_at} = NULL, updated_at = now() {on_cancel}
WHERE id = $1::uuid {job_filter} AND {status} = '{queued}'
RETURNING id::text

-- name: queue_row_status
-- $1 id
SELECT {status}::text FROM {table} WHERE id = $1::uuid {job_filter}

-- name: queue_finished_per_minute
-- $1 the start of the window (Unix seconds, a whole minute). Rows that reached a final status
-- since then, by the minute they reached it; reads the queue's index of finished rows
-- (009_finished_indexes.sql), so its cost is the finishes of the window, not the table. Job
-- queues read their counts per minute instead (jobs_finished_per_minute).
SELECT extract(epoch FROM date_trunc('minute', {finished_at}))::bigint AS minute,
       count(*) FILTER (WHERE {status} = '{completed}'),
       count(*) FILTER (WHERE {status} = '{error}')
FROM {table}
WHERE {status} IN ('{completed}', '{error}') {job_filter}
  AND {finished_at} >= to_timestamp($1::bigint)
GROUP BY 1

-- name: jobs_finished_per_minute
-- The same for a job queue, from the counts per minute kept beside jobs
-- (011_jobs_without_finish_index.sql): the folded minutes plus the deltas appended since.
-- $1 the start of the window (Unix seconds, a whole minute)
SELECT extract(epoch FROM minute)::bigint AS minute,
       coalesce(sum(n) FILTER (WHERE status = '{completed}'), 0)::bigint,
       coalesce(sum(n) FILTER (WHERE status = '{error}'), 0)::bigint
FROM (SELECT minute, status, n FROM job_finished_minutes
      WHERE minute >= to_timestamp($1::bigint) {job_filter}
      UNION ALL
      SELECT minute, status, n FROM job_status_deltas
      WHERE minute >= to_timestamp($1::bigint) {job_filter}) counted
GROUP BY 1
