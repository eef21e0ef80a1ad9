-- Statements of the workflow handlers. The result writes run in the queue driver's write
-- transaction, with the items' new statuses: a batch's, or one item's after a permanent error.
-- jobs_report_progress is the one a work step runs itself.

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

-- name: places_staging_upsert
-- $1 search job id; arrays: $2 place_id, $3 name, $4 address, $5 latitude, $6 longitude,
-- $7 rating, $8 user_ratings_total, $9 raw json; $10 business_type, $11 location
INSERT INTO places_staging (search_job_id, place_id, name, address, latitude, longitude, rating,
                            user_ratings_total, raw, business_type, location)
SELECT $1::uuid, p.place_id, p.name, p.address, p.lat, p.lng, p.rating, p.total, p.raw::jsonb,
       $10, $11
FROM unnest($2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::float8[],
            $8::int[], $9::text[]) AS p(place_id, name, address, lat, lng, rating, total, raw)
ON CONFLICT (place_id) DO UPDATE
SET name = EXCLUDED.name, address = EXCLUDED.address, latitude = EXCLUDED.latitude,
    longitude = EXCLUDED.longitude, rating = EXCLUDED.rating,
    user_ratings_total = EXCLUDED.user_ratings_total, raw = EXCLUDED.raw, updated_at = now()

-- name: local_businesses_upsert_from_details
-- $1 place_id, $2 name, $3 address, $4 phone, $5 website, $6 rating, $7 ratings total, $8 raw
INSERT INTO local_businesses (place_id, business_name, full_address, phone, website_url, rating,
                              user_ratings_total, raw)
VALUES ($1, $2, $3, $4, $5, $6::float8, $7::int, $8::jsonb)
ON CONFLICT (place_id) DO UPDATE
SET business_name = EXCLUDED.business_name, full_address = EXCLUDED.full_address,
    phone = EXCLUDED.phone, website_url = EXCLUDED.website_url, rating = EXCLUDED.rating,
    user_ratings_total = EXCLUDED.user_ratings_total, raw = EXCLUDED.raw, updated_at = now()

-- name: places_staging_record_deep_scan_error
UPDATE places_staging SET deep_scan_error = $2 WHERE id = $1::uuid

-- name: places_staging_clear_deep_scan_error
UPDATE places_staging SET deep_scan_error = NULL WHERE id = $1::uuid

-- name: domains_store_metadata
-- $1 domain id, $2 title, $3 description, $4 language, $5 emails, $6 social, $7 tech, $8 metadata,
-- $9 phones
UPDATE domains
SET title = $2, description = $3, language = $4, emails = $5::jsonb, social_links = $6::jsonb,
    tech_stack = $7::jsonb, metadata = $8::jsonb, phones = $9::jsonb, metadata_fetched_at = now()
WHERE id = $1::uuid

-- name: domains_create_sitemap_job
-- One discovery job per submission; the row commits with the submission's status change.
INSERT INTO jobs (job_type, domain_id, user_id, params)
SELECT 'sitemap', d.id, d.created_by, jsonb_build_object('domain', d.domain)
FROM domains d WHERE d.id = $1::uuid
RETURNING id::text

-- name: domains_record_sitemap_error
UPDATE domains SET sitemap_analysis_error = $2 WHERE id = $1::uuid

-- name: sitemap_files_upsert
-- $1 domain id, $2 job id; arrays: $3 url, $4 type, $5 discovery method, $6 url count
INSERT INTO sitemap_files (domain_id, job_id, url, sitemap_type, discovery_method, url_count)
SELECT $1::uuid, $2::uuid, s.url, s.kind, s.method, s.n
FROM unnest($3::text[], $4::text[], $5::text[], $6::int[]) AS s(url, kind, method, n)
ON CONFLICT (domain_id, url) DO UPDATE
SET sitemap_type = EXCLUDED.sitemap_type, url_count = EXCLUDED.url_count,
    job_id = EXCLUDED.job_id, updated_at = now()

-- name: pages_insert_from_sitemap
-- $1 domain id, $2 sitemap file id; arrays: $3 url, $4 lastmod, $5 changefreq, $6 priority
INSERT INTO pages (domain_id, sitemap_file_id, url, lastmod, changefreq, priority)
SELECT $1::uuid, $2::uuid, p.url, p.lastmod, p.changefreq, p.priority
FROM unnest($3::text[], $4::text[], $5::text[], $6::float8[]) AS p(url, lastmod, changefreq, priority)
ON CONFLICT (url) DO NOTHING

-- name: sitemap_files_record_import
UPDATE sitemap_files SET url_count = $2::int, status = 'Completed', sitemap_import_error = NULL
WHERE id = $1::uuid

-- name: sitemap_files_record_import_error
UPDATE sitemap_files SET sitemap_import_error = $2, status = 'Error' WHERE id = $1::uuid

-- name: contacts_insert
-- $1 domain id, $2 job id; arrays: $3 email, $4 source url
INSERT INTO contacts (domain_id, job_id, email, source_url)
SELECT $1::uuid, $2::uuid, c.email, c.source_url
FROM unnest($3::text[], $4::text[]) AS c(email, source_url)
ON CONFLICT (domain_id, email) DO NOTHING

-- name: jobs_report_progress
-- Fenced like every write of a claimed row: only the current holder may report.
UPDATE jobs SET progress = $2::float8, updated_at = now()
WHERE id = $1::uuid AND status = 'InProgress' AND locked_by = $3 AND claims = $4::bigint
