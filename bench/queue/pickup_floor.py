#!/usr/bin/env python3
# The least a pickup after the commit can cost here, with no server in the way: an insert whose
# NOTIFY reaches a LISTENing connection, which then runs the page_scrape claim (one row) at once,
# timed from the insert returning to the claim's answer. Beside it, in the same loop and
# interleaved sample by sample: the claim run on the listening connection itself, and the floor
# of bench/queue/run (a prepared SELECT 1 on a connection idle as long). Each claimed row is
# completed off the clock, so that rows in progress do not pile up in the claim's index. Last, what
# the claim itself costs in PostgreSQL when run cold (EXPLAIN ANALYZE).
#   pickup_floor.py URL SAMPLES   (URL: a database migrated by `scrapersky migrate`; needs
#   python3-psycopg2; inserts 50 ms apart, as bench/queue/run's latency workload)
import re, select, sys, time
import psycopg2
import queue_statements

url, samples = sys.argv[1], int(sys.argv[2])


def connect():
    c = psycopg2.connect(url)
    c.autocommit = True
    cur = c.cursor()
    # The engine's session settings, and its claims' commit setting (actors/queue_driver.cpp).
    cur.execute(queue_statements.ENGINE_SESSION + "; SET synchronous_commit = off")
    cur.execute(queue_statements.claim("node-floor"))
    cur.execute("PREPARE floor AS SELECT 1")
    return c


listener, claimer, prober, inserter = connect(), connect(), connect(), connect()
listener.cursor().execute("LISTEN sky_queue")
ins = inserter.cursor()
variants = ["claim on another connection", "claim on the listening connection", "SELECT 1 (the floor)"]
times = {v: [] for v in variants}


def insert_one():
    ins.execute("INSERT INTO jobs (job_type, params) VALUES ('page_scrape', '{}')")


# Off the clock: the claimed row finished, so that rows in progress do not pile up.
def complete_claimed():
    ins.execute("UPDATE jobs SET status = 'Completed', finished_at = now(), locked_by = NULL "
                "WHERE finished_at IS NULL")


def wait_notify():
    while not listener.notifies:
        if not select.select([listener], [], [], 5)[0]:
            sys.exit("no NOTIFY within 5 s")
        listener.poll()
    listener.notifies.clear()


for i in range(samples * len(variants)):
    v = variants[i % len(variants)]
    time.sleep(0.05)
    if v.startswith("SELECT"):
        cur = prober.cursor()
        t0 = time.perf_counter()
        cur.execute("EXECUTE floor")
        cur.fetchall()
    else:
        insert_one()
        t0 = time.perf_counter()
        wait_notify()
        cur = (listener if "listening" in v else claimer).cursor()
        cur.execute("EXECUTE claim(500)")
        rows = cur.fetchall()
    times[v].append((time.perf_counter() - t0) * 1000)
    if not v.startswith("SELECT"):
        if len(rows) != 1:
            sys.exit(f"claimed {len(rows)} rows, not 1")
        complete_claimed()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


# What the claim itself costs in PostgreSQL when run cold, as a pickup runs it: EXPLAIN ANALYZE
# of a one-row claim 50 ms after the insert, 21 times; the statement's execution, its row lock
# and the counting trigger.
plans = {"execution": [], "row lock": [], "counting trigger": []}
cur = claimer.cursor()
for _ in range(21):
    insert_one()
    time.sleep(0.05)
    cur.execute("EXPLAIN (ANALYZE, BUFFERS) EXECUTE claim(500)")
    plan = "\n".join(r[0] for r in cur.fetchall())
    plans["execution"].append(float(re.search(r"Execution Time: ([0-9.]+)", plan).group(1)))
    plans["row lock"].append(float(re.search(r"LockRows .*actual time=[0-9.]+\.\.([0-9.]+)", plan).group(1)))
    plans["counting trigger"].append(
        float(re.search(r"Trigger jobs_count_updated: time=([0-9.]+)", plan).group(1)))
    complete_claimed()


print(f"{samples} samples each, 50 ms apart, interleaved (ms from the insert returning; the floor "
      "from send to result)")
for v, xs in times.items():
    print(f"  {v:34s} p50 {pct(xs, 50):.2f}  p90 {pct(xs, 90):.2f}  p99 {pct(xs, 99):.2f}")
print("a one-row claim run cold (EXPLAIN ANALYZE, 21 times, ms): " +
      ", ".join(f"{k} p50 {pct(v, 50):.3f}" for k, v in plans.items()))
