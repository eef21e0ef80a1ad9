#!/usr/bin/env python3
# One backend alone: claim and finish statements of the page_scrape queue in a loop on a migrated
# database (scrapersky migrate), backend CPU from /proc and WAL per job. Modes: lease (the
# engine's claim and fenced finish), lock (claim by row lock, finish in the same transaction),
# leaseplain / leasedirect (lease claim, unfenced or directly filtered finish), *_nomemo; engine:
# the claim and the finish at the claimed address as queue.sql has them now
# (queue_statements.py).
# BEFORE: SQL run first (a schema change to try, e.g. dropping a trigger).
#   statement_loop.py URL MODE JOBS BATCH [BEFORE]  (run on the database machine: it reads /proc;
#   needs python3-psycopg2)
import psycopg2, sys, time, os
import queue_statements
url, mode, n, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
before = sys.argv[5] if len(sys.argv) > 5 else ""
c = psycopg2.connect(url); c.autocommit = True
cur = c.cursor()
cur.execute(queue_statements.ENGINE_SESSION)
cur.execute("TRUNCATE job_status_deltas")
if before: cur.execute(before)
cur.execute("SELECT pg_backend_pid()"); pid = cur.fetchone()[0]
cur.execute("INSERT INTO jobs (job_type, params) SELECT 'page_scrape', '{\"i\":1}'::jsonb FROM generate_series(1,%s)", (n,))
cur.execute("CHECKPOINT")
def cpu():
    t = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        t += int(open(f"/proc/{pid}/task/{task}/schedstat").read().split()[0])
    return t
claim_lease = """PREPARE claim(int) AS WITH picked AS (
  SELECT ctid FROM jobs WHERE status = 'Queued' AND job_type = 'page_scrape' AND finished_at IS NULL AND next_attempt_at <= now()
  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
UPDATE jobs AS t SET status = 'InProgress', attempts = t.attempts + 1, locked_by = 'n1',
    lease_expires_at = now() + make_interval(secs => 300), updated_at = now()
WHERE t.ctid = ANY(ARRAY(SELECT ctid FROM picked))
RETURNING t.id::text, t.attempts, json_build_object('i', t.params)::text, t.ctid::text"""
claim_lock = """PREPARE claim(int) AS
  SELECT id::text, attempts, json_build_object('i', params)::text, ctid::text FROM jobs WHERE status = 'Queued' AND job_type = 'page_scrape' AND finished_at IS NULL AND next_attempt_at <= now()
  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED"""
finish_lease = """PREPARE fin(tid[], uuid[], int[], text[]) AS UPDATE jobs AS t
SET status = 'Completed', locked_by = NULL, lease_expires_at = NULL, last_error = NULL,
    updated_at = now(), progress = 1, result_data = coalesce(d.result::jsonb, t.result_data), error = NULL, finished_at = now()
FROM unnest($1::tid[], $2::uuid[], $3::int[], $4::text[]) AS d(address, id, attempt, result)
CROSS JOIN LATERAL (
  SELECT ctid, status AS status, locked_by AS holder, attempts AS attempt FROM jobs
  WHERE ctid = d.address AND id = d.id AND locked_by = 'n1' AND attempts = d.attempt AND status = 'InProgress' LIMIT 1) AS held
WHERE t.ctid = held.ctid AND t.status = held.status AND t.locked_by = held.holder AND t.attempts = held.attempt
RETURNING t.id::text, t.status::text"""
finish_lock = """PREPARE fin(tid[], uuid[], int[], text[]) AS UPDATE jobs AS t
SET status = 'Completed', attempts = t.attempts + 1, updated_at = now(), progress = 1, result_data = coalesce(d.result::jsonb, t.result_data), error = NULL, finished_at = now()
FROM unnest($1::tid[], $2::uuid[], $3::int[], $4::text[]) AS d(address, id, attempt, result)
WHERE t.ctid = d.address
RETURNING t.id::text, t.status::text"""
lock = mode.startswith("lock")
engine = mode == "engine"
cur.execute(queue_statements.claim("n1") if engine else claim_lock if lock else claim_lease)
finish_direct = """PREPARE fin(tid[], uuid[], int[], text[]) AS UPDATE jobs AS t
SET status = 'Completed', locked_by = NULL, lease_expires_at = NULL, last_error = NULL,
    updated_at = now(), progress = 1, result_data = coalesce(d.result::jsonb, t.result_data), error = NULL, finished_at = now()
FROM unnest($1::tid[], $2::uuid[], $3::int[], $4::text[]) AS d(address, id, attempt, result)
WHERE t.ctid = d.address AND t.id = d.id AND t.locked_by = 'n1' AND t.attempts = d.attempt AND t.status = 'InProgress'
RETURNING t.id::text, t.status::text"""
cur.execute(queue_statements.finish("address", "n1") if engine else finish_lock if (lock or mode=="leaseplain") else finish_direct if mode == "leasedirect" else finish_lease)
if "nomemo" in mode: cur.execute("SET enable_memoize = off")
w0 = None
cur.execute("SELECT pg_current_wal_lsn()"); l0 = cur.fetchone()[0]
t0 = cpu(); done = 0; st = time.time()
while done < n:
    if lock: cur.execute("BEGIN")
    cur.execute("EXECUTE claim(%s)", (batch,))
    rows = cur.fetchall()
    if not rows: break
    ids = [r[0] for r in rows]; att = [r[1] for r in rows]; tids = [r[-1] for r in rows]
    res = ['{"ok":true}'] * len(rows)
    cur.execute("EXECUTE fin(%s::tid[], %s::uuid[], %s, %s)", (tids, ids, att, res))
    got = cur.fetchall()
    assert len(got) == len(rows), (len(got), len(rows))
    if lock: cur.execute("COMMIT")
    done += len(rows)
t1 = cpu()
cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (l0,)); wal = cur.fetchone()[0]
print(f"{mode} batch {batch}: backend {((t1-t0)/1e3/done):.1f} us/job, wal {float(wal)/done:.0f} B/job, wall {(time.time()-st)*1e6/done:.1f} us/job")
