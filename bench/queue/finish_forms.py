#!/usr/bin/env python3
# One backend alone: the claim and one form of the finish at the claimed addresses, in a loop on
# a migrated database (`scrapersky migrate`), backend CPU of each statement kind from /proc and
# the finish's WAL per job. Every round runs every form on a fresh copy of the template database,
# odd rounds in list order and even rounds backwards; prints each form's median and range.
#   finish_forms.py TEMPLATE_URL FORMS ROUNDS JOBS [BATCH]
#   (FORMS: comma-separated of queue_statements.FORMS; run on the database machine: it reads
#   /proc; needs python3-psycopg2)
# The statements and the forms of the finish: queue_statements.py.
import os, sys, psycopg2
import queue_statements
from urllib.parse import urlsplit, urlunsplit

url, forms, rounds, n = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4])
batch = int(sys.argv[5]) if len(sys.argv) > 5 else 500
parts = urlsplit(url)
template = parts.path.lstrip("/")
def db_url(name):
    return urlunsplit(parts._replace(path="/" + name))

node = "node-0123456789abcdef"
def run(form):
    admin = psycopg2.connect(db_url("postgres")); admin.autocommit = True
    a = admin.cursor()
    a.execute("DROP DATABASE IF EXISTS finish_forms")
    a.execute(f'CREATE DATABASE finish_forms TEMPLATE "{template}"')
    c = psycopg2.connect(db_url("finish_forms")); c.autocommit = True
    cur = c.cursor()
    cur.execute(queue_statements.ENGINE_SESSION)
    if form in queue_statements.FINISH_SETTINGS:
        cur.execute(queue_statements.FINISH_SETTINGS[form])
    cur.execute("SELECT pg_backend_pid()"); pid = cur.fetchone()[0]
    cur.execute("INSERT INTO jobs (job_type, params) SELECT 'page_scrape', '{}'::jsonb "
                "FROM generate_series(1, %s)", (n,))
    cur.execute("VACUUM ANALYZE jobs"); cur.execute("CHECKPOINT")
    cur.execute(queue_statements.claim(node)); cur.execute(queue_statements.finish(form, node))
    def cpu_ns():
        return sum(int(open(f"/proc/{pid}/task/{t}/schedstat").read().split()[0])
                   for t in os.listdir(f"/proc/{pid}/task"))
    claim_ns = finish_ns = done = 0; finish_wal = 0.0
    while done < n:
        t0 = cpu_ns(); cur.execute("EXECUTE claim(%s)", (batch,)); rows = cur.fetchall()
        claim_ns += cpu_ns() - t0
        if not rows:
            break
        cur.execute("SELECT pg_current_wal_lsn()"); lsn = cur.fetchone()[0]
        t0 = cpu_ns()
        cur.execute("EXECUTE fin(%s::tid[], %s::uuid[], %s, %s)",
                    ([r[-1] for r in rows], [r[0] for r in rows], [r[1] for r in rows],
                     ['{"ok":true}'] * len(rows)))
        finished = cur.fetchall()
        finish_ns += cpu_ns() - t0
        cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (lsn,))
        finish_wal += float(cur.fetchone()[0])
        assert len(finished) == len(rows), (form, len(finished), len(rows))
        done += len(rows)
    c.close()
    a.execute("DROP DATABASE finish_forms"); admin.close()
    return claim_ns / 1e3 / done, finish_ns / 1e3 / done, finish_wal / done

results = {f: [] for f in forms}
for r in range(rounds):
    for form in (forms if r % 2 == 0 else forms[::-1]):
        results[form].append(run(form))
def median_range(xs):
    xs = sorted(xs)
    return f"{xs[len(xs) // 2]:.2f} ({xs[0]:.2f}-{xs[-1]:.2f})"
print(f"{n} jobs, batches of {batch}, {rounds} rounds; backend CPU us per job, median (range)")
for f in forms:
    rs = results[f]
    print(f"{f:8} claim {median_range([x[0] for x in rs])}  finish {median_range([x[1] for x in rs])}"
          f"  finish WAL {sorted(x[2] for x in rs)[len(rs) // 2]:.0f} B/job")
