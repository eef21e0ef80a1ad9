-- Result writes of the workflow handlers. Each runs inside its item's savepoint.

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
