-- Queries on the jobs table.

-- name: jobs_get
SELECT id, job_type, status::text, user_id, domain_id, params::text, progress,
       result_data::text, error, attempts, last_error, created_at::text, updated_at::text,
       finished_at::text
FROM jobs WHERE id = $1
