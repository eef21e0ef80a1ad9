-- Queries on the jobs table.

-- name: jobs_get
SELECT id, job_type, status::text, user_id, domain_id, params::text, progress,
       result_data::text, error, attempts, last_error, created_at::text, updated_at::text,
       finished_at::text
FROM jobs WHERE id = $1

-- name: jobs_lock_status
SELECT status::text FROM jobs WHERE id = $1::uuid FOR UPDATE

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
