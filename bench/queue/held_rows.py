#!/usr/bin/env python3
# EXPLAIN ANALYZE of a 500-row claim by lock while another session holds 0, 500 or 1,000 rows,
# with and without passing the held ids. Needs a migrated database with queued page_scrape jobs.
#   held_rows.py URL
import psycopg2, sys
url=sys.argv[1]
q="""SELECT t.id::text, t.attempts + 1, json_build_object('i', t.params)::text, t.ctid::text FROM jobs t
WHERE t.status = 'Queued' AND job_type = 'page_scrape' AND finished_at IS NULL AND t.next_attempt_at <= now()
AND NOT (t.id = ANY(%s::uuid[]))
ORDER BY t.next_attempt_at LIMIT 500 FOR UPDATE OF t SKIP LOCKED"""
a=psycopg2.connect(url); ca=a.cursor()
b=psycopg2.connect(url); cb=b.cursor()
cb.execute("SET enable_seqscan=off")
for held in [0, 500, 1000]:
    ids=[]
    if held:
        ca.execute(q.replace("500", str(held)), ([],)); ids=[r[0] for r in ca.fetchall()]
    for pass_ids in ([], ids):
        cb.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + q, (pass_ids,))
        plan=[r[0] for r in cb.fetchall()]
        print(held, len(pass_ids), [l.strip() for l in plan if "Execution" in l or "Planning Time" in l])
        b.rollback()
    a.rollback()
