-- Result writes of the workflow handlers. Each runs inside its item's savepoint.

-- name: jobs_record_outcome
-- $1 id, $2 result json (nullable), $3 new status text, $4 error (nullable)
UPDATE jobs
SET result_data = coalesce($2::jsonb, result_data),
    progress = CASE WHEN $3 = 'Completed' THEN 1 ELSE progress END,
    error = $4,
    finished_at = CASE WHEN $3 IN ('Completed', 'Error', 'Cancelled') THEN now() END
WHERE id = $1::uuid

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
