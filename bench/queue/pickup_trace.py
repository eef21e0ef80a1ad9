#!/usr/bin/env python3
# Where a pickup spends its time: single inserts 50 ms apart into a server built with
# pickup_trace.patch (a timestamp at each hand-over on stderr), optionally with background load;
# prints, per hand-over, the median and p99 time from the insert returning (idle: every stage
# belongs to the measured row), then the slowest pickups' timelines.
#   pickup_trace.py URL BINARY INSERTS BACKGROUND_JOBS_PER_S [NAME=VALUE ...]
import os, statistics, subprocess, sys, tempfile, threading, time
import psycopg2

url, binary, inserts, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
extra = dict(a.split("=", 1) for a in sys.argv[5:])
work = tempfile.mkdtemp(prefix="sky-pickup-trace-")
log, out = f"{work}/exec.log", f"{work}/server.log"
conn = psycopg2.connect(url)
conn.autocommit = True
cur = conn.cursor()
env = dict(os.environ, DATABASE_URL=url, PORT="0", JWT_SECRET="pickup-trace-secret-32-bytes-long",
           ENVIRONMENT="test", LOG_LEVEL="info", TEST_SYNTHETIC_HANDLERS="true",
           TEST_SYNTHETIC_COOPERATIVE="true", TEST_EXECUTION_LOG=log,
           **{"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES": "1000", "PAGE_SCRAPE_SCHEDULER_BATCH_SIZE": "500",
              **extra})
server = subprocess.Popen([binary, "serve"], env=env, stdout=open(out, "w"), stderr=subprocess.STDOUT)
deadline = time.time() + 60
while "listening on" not in open(out).read():
    if time.time() > deadline or server.poll() is not None:
        sys.exit("the server did not start:\n" + open(out).read())
    time.sleep(0.1)
stop = False


def background():  # one multi-row insert every 10 ms of the jobs due by then
    c = psycopg2.connect(url)
    c.autocommit = True
    bc, t0, sent = c.cursor(), time.time(), 0
    while not stop:
        due = int((time.time() - t0) * rate) - sent
        if due > 0:
            bc.execute("INSERT INTO jobs (job_type, params) SELECT 'page_scrape', "
                       "'{\"background\": true}' FROM generate_series(1, %s)", (due,))
            sent += due
        time.sleep(0.01)


loader = threading.Thread(target=background) if rate else None
if loader:
    loader.start()
time.sleep(1)
returned = {}
for _ in range(inserts):
    cur.execute("INSERT INTO jobs (job_type, params) VALUES ('page_scrape', '{}') RETURNING id::text")
    returned[cur.fetchone()[0]] = time.time_ns()
    time.sleep(0.05)
stop = True
if loader:
    loader.join()
time.sleep(0.5)
server.terminate()
server.wait()
started = {}
for line in open(log):
    f = line.split()
    started[f[0]] = int(f[1])
events = sorted((int(ns), stage) for _, stage, ns in
                (line.split() for line in open(out) if line.startswith("TRACE ")))
# notifier: the NOTIFY read; wake: the poller woken (no claim stood); claim / claimed: the claim
# statement sent / answered, on the claim lane; poller: the rows at the poller; pool: at the pool.
stages = ["notifier", "wake", "claim", "claimed", "poller", "pool"]
offsets = {s: [] for s in stages + ["handler"]}
timelines = []
for job, t in returned.items():
    start = started[job]
    window = [(ns, st) for ns, st in events if t - 3_000_000 <= ns <= start]
    # The hand-overs of this pickup: the last of each stage before the handler started.
    for s in stages:
        last = [ns for ns, st in window if st == s]
        if last:
            offsets[s].append((last[-1] - t) / 1e6)
    offsets["handler"].append((start - t) / 1e6)
    timelines.append(((start - t) / 1e6, " ".join(f"{st}{(ns - t) / 1e6:+.2f}" for ns, st in window)))
print(f"{inserts} inserts, background {rate} jobs/s: ms from the insert returning"
      + (" (under load a stage may be another pickup's)" if rate else ""))
for s, v in offsets.items():
    v.sort()
    if v:
        print(f"  {s:10s} p50 {statistics.median(v):6.2f}  p99 {v[max(0, int(len(v) * 0.99) - 1)]:6.2f}")
print("slowest pickups (ms from the insert returning):")
for ms, line in sorted(timelines)[-6:]:
    print(f"  {ms:5.2f}: {line}")
