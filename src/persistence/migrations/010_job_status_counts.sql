-- The status breakdown of the job queues without scanning jobs. Counting finished jobs by status
-- took about 3 s per job type at 10 million rows (a 6 GB sequential scan), three times every
-- 30 s; these counts make it a read of a few small rows.
--   * Every statement that inserts, updates or deletes jobs appends what it changed in the
--     finished counts to job_status_deltas: one row per (type, status) it touched, computed from
--     the statement's transition tables. Appends take no lock that another writer waits for, so
--     concurrent finishers on several nodes never queue behind a counter row.
--   * The rescuer pass folds the deltas into job_status_counts now and then; readers add both.
--   * Only finished statuses are counted here: queued and running counts come from the partial
--     index of active jobs, exact and fresh.
-- TRUNCATE bypasses statement triggers; the project never truncates jobs.
CREATE TABLE job_status_counts (
    job_type text COLLATE "C" NOT NULL,
    status   task_status NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY (job_type, status)
);

CREATE TABLE job_status_deltas (
    job_type text COLLATE "C" NOT NULL,
    status   task_status NOT NULL,
    n        bigint NOT NULL
);

-- Transition tables are allowed on one event per trigger, so each event has its own trigger;
-- the function reads only the tables its event provides.
CREATE FUNCTION sky_count_job_statuses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO job_status_deltas (job_type, status, n)
    SELECT job_type, status, count(*) FROM new_jobs WHERE finished_at IS NOT NULL GROUP BY 1, 2;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO job_status_deltas (job_type, status, n)
    SELECT job_type, status, sum(d) FROM (
        SELECT job_type, status, 1 AS d FROM new_jobs WHERE finished_at IS NOT NULL
        UNION ALL
        SELECT job_type, status, -1 FROM old_jobs WHERE finished_at IS NOT NULL) changed
    GROUP BY 1, 2 HAVING sum(d) <> 0;
  ELSE
    INSERT INTO job_status_deltas (job_type, status, n)
    SELECT job_type, status, -count(*) FROM old_jobs WHERE finished_at IS NOT NULL GROUP BY 1, 2;
  END IF;
  RETURN NULL;
END $$;

-- No writes while the existing rows are counted, so the first counts and the triggers agree.
LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER jobs_count_inserted AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION sky_count_job_statuses();
CREATE TRIGGER jobs_count_updated AFTER UPDATE ON jobs
  REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION sky_count_job_statuses();
CREATE TRIGGER jobs_count_deleted AFTER DELETE ON jobs REFERENCING OLD TABLE AS old_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION sky_count_job_statuses();

INSERT INTO job_status_counts (job_type, status, n)
SELECT job_type, status, count(*) FROM jobs WHERE finished_at IS NOT NULL GROUP BY 1, 2;
