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
