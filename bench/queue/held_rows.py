#!/usr/bin/env python3
# A 500-row claim by lock while another session holds 0 to 2,000 rows, its held ids passed in
# three ways: `NOT (id = ANY($2))` in the generic plan, `id NOT IN (SELECT unnest($2))` in the
# generic plan (the engine's), and `= ANY` planned for its values (force_custom_plan, the
# engine's earlier way for 64 ids or more). Median round trip of five, each rolled back. Needs a
# migrated database with a few thousand queued page_scrape jobs.
#   held_rows.py URL
import psycopg2, sys, time
import queue_statements

url = sys.argv[1]
holder = psycopg2.connect(url)
hc = holder.cursor()
claimer = psycopg2.connect(url)
cc = claimer.cursor()
cc.execute(queue_statements.ENGINE_SESSION)
claim = """SELECT t.id::text, t.attempts + 1, json_build_object('i', t.params)::text, t.ctid::text
FROM jobs t
WHERE t.status = 'Queued' AND job_type = 'page_scrape' AND finished_at IS NULL
  AND t.next_attempt_at <= now() AND {filter}
ORDER BY t.next_attempt_at LIMIT $1 FOR UPDATE OF t SKIP LOCKED"""
cc.execute("PREPARE any_list(int, uuid[]) AS " + claim.format(filter="NOT (t.id = ANY($2::uuid[]))"))
cc.execute("PREPARE not_in(int, uuid[]) AS " + claim.format(filter="t.id NOT IN (SELECT unnest($2::uuid[]))"))
claimer.commit()


def run(form, held_literal):
    if form == "any, custom plan":
        cc.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        cc.execute("EXECUTE any_list(500, %s)", (held_literal,))
    else:
        cc.execute(f"EXECUTE {'any_list' if form == 'any, generic plan' else 'not_in'}(500, %s)",
                   (held_literal,))
    return len(cc.fetchall())


for held in [0, 64, 500, 1000, 2000]:
    ids = []
    if held:
        hc.execute(claim.format(filter="true").replace("$1", str(held)))
        ids = [r[0] for r in hc.fetchall()]
    literal = "{" + ",".join(ids) + "}"
    for form in ["any, generic plan", "not in, generic plan", "any, custom plan"]:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            n = run(form, literal)
            times.append(time.perf_counter() - t)
            claimer.rollback()
        times.sort()
        print(f"{held:5d} held, {form:21s}: {n} rows in {times[2] * 1000:.2f} ms")
    holder.rollback()
