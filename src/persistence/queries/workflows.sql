-- Result writes of the workflow handlers. Each runs inside its item's savepoint.

-- name: jobs_record_outcomes
-- $1 ids uuid[], $2 results text[] (NULL: keep), $3 new statuses text[], $4 errors text[]
UPDATE jobs AS j
SET result_data = coalesce(d.result::jsonb, j.result_data),
    progress = CASE WHEN d.status = 'Completed' THEN 1 ELSE j.progress END,
    error = d.error,
    finished_at = CASE WHEN d.status IN ('Completed', 'Error', 'Cancelled') THEN now() END
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS d(id, result, status, error)
WHERE j.id = d.id

-- name: domains_upsert_for_business
-- $1 domain, $2 local business id
INSERT INTO domains (domain, local_business_id) VALUES ($1, $2::uuid)
ON CONFLICT (domain) DO UPDATE SET updated_at = now()
RETURNING id::text

-- name: local_businesses_link_domain
UPDATE local_businesses SET domain_id = $2::uuid, domain_extraction_error = NULL
WHERE id = $1::uuid

-- name: local_businesses_record_extraction_error
UPDATE local_businesses SET domain_extraction_error = $2 WHERE id = $1::uuid
