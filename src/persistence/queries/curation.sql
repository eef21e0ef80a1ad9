-- Curation (the dual-status pattern), rendered per queue with {curation} as the curation column.

-- name: curation_set_status
-- $1 ids (uuid[]), $2 curation status. 'Selected' queues the row's processing status in the same
-- statement, so the queue trigger's NOTIFY commits with it; rows being processed keep running.
UPDATE {table} t
SET {curation} = $2::text::sitemap_curation_status_enum,
    updated_at = now(),
    {status} = CASE WHEN $2::text = 'Selected' AND t.{status} IS DISTINCT FROM '{processing}'
                    THEN '{queued}'::{status_type} ELSE t.{status} END,
    {attempts} = CASE WHEN $2::text = 'Selected' AND t.{status} IS DISTINCT FROM '{processing}'
                      THEN 0 ELSE t.{attempts} END,
    {last_error} = CASE WHEN $2::text = 'Selected' AND t.{status} IS DISTINCT FROM '{processing}'
                        THEN NULL ELSE t.{last_error} END,
    {next_attempt_at} = CASE WHEN $2::text = 'Selected'
                                  AND t.{status} IS DISTINCT FROM '{processing}'
                             THEN now() ELSE t.{next_attempt_at} END
WHERE t.id = ANY($1::uuid[])
RETURNING t.id::text, t.{status}::text
