-- Queue observability. Table and column names come from config/queue_catalog.cpp: these are
-- templates whose {placeholders} are filled once at start-up from that static catalog, never
-- from input.

-- name: queue_status_counts
SELECT {status}::text AS status, count(*) AS n,
       extract(epoch FROM now() - min(CASE WHEN {status} = '{queued}' THEN {next_attempt_at} END)) AS oldest_queued_s
FROM {table}
WHERE {status} IS NOT NULL {job_filter}
GROUP BY {status}

-- name: queue_wake
-- Wakes the pollers of a queue on every node, exactly as a committed insert would.
SELECT pg_notify('sky_queue', $1)
