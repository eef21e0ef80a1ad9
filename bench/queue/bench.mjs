// Queue benchmark: the same workloads through ScraperSky's engine, graphile-worker and pg-boss, on
// one PostgreSQL, in one run. Prints tables (markdown) and, last, the results as one JSON line.
//
//   throughput: N no-op jobs inserted in one statement into an idle, running system; time from
//               the insert's commit until every job is finished in the database, and the CPU
//               time PostgreSQL and the worker process spent meanwhile.
//   latency:    single inserts, 50 ms apart, into an idle system, and again while background
//               jobs arrive at a steady rate; time from the insert being issued / returning to
//               the handler starting. Beside it the floor: a prepared SELECT 1 on a connection
//               idle as long between calls, timed the same way; and for ScraperSky the bare
//               pickup (an insert, its NOTIFY and the engine's claim, with no server in the way),
//               interleaved with the server's samples.
//
// Options (bench/queue/run passes its arguments through):
//   --items=20000 --runs=5 --latency=200 (0: no latency workload) --background=1000 (jobs/s; 0: none)
//   --latency-runs=N                      rounds of the latency workload (default: --runs)
//   --configs=16x16,64x64,500x500,1000x500   ScraperSky concurrency x batch
//   --configs=500,1000                    ScraperSky concurrency only, the server's default batch
//   --graphile=24x500,...,default         graphile-worker concurrency x localQueue size
//   --pgboss=500x4,500x4p2,500x16m10,...  pg-boss batchSize x localConcurrency (pN: polling s, mN: pool)
//   --only=scrapersky | graphile | pgboss systems whose name starts with this
//   --pooler-url=... --pooler-pid=...     a transaction-mode PgBouncer: ScraperSky rows through it
//   --compare-bin=path [--compare-label=x] every ScraperSky row again with another build (A/B)
//   --admin=... --pgdata=... --bin=...    set by bench/queue/run
import { spawn, execFileSync } from "node:child_process";
import { readFileSync, readdirSync, existsSync, rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import pg from "pg";
// The statement pg-boss's own insert() and send() run, so the harness can issue it on its connection.
import { insertJobs as pgbossInsertJobs, COMMON_JOB_TABLE } from "pg-boss/dist/plans.js";

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")).map(([k, ...v]) => [k, v.length ? v.join("=") : "1"]),
);
const ADMIN_URL = args.admin; // postgresql://.../postgres
const PGDATA = args.pgdata; // the cluster's data directory (for its postmaster's pid)
const BIN = args.bin; // scrapersky release binary
const COMPARE_BIN = args["compare-bin"]; // a second scrapersky binary, for A/B rows
const COMPARE_LABEL = args["compare-label"] ?? "compare";
const POOLER_URL = args["pooler-url"]; // postgresql://...pgbouncer.../postgres, or unset
const POOLER_PID_FILE = args["pooler-pid"];
const ITEMS = Number(args.items ?? 20000);
const RUNS = Number(args.runs ?? 5);
const LATENCY_COUNT = Number(args.latency ?? 200);
const LATENCY_RUNS = Number(args["latency-runs"] ?? RUNS); // rounds of the latency workload
const BACKGROUND_RATE = Number(args.background ?? 1000);
const SECRET = "bench-secret-bench-secret-bench-secret-01";
const SPACING_MS = 50; // between measured inserts, and between the floor's samples
const GRAPHILE_SCRIPT = new URL("./graphile-worker.mjs", import.meta.url).pathname;
const PGBOSS_SCRIPT = new URL("./pg-boss.mjs", import.meta.url).pathname;

const nowMs = () => performance.timeOrigin + performance.now(); // wall clock, µs precision
const hrMs = () => Number(process.hrtime.bigint()) / 1e6; // CLOCK_MONOTONIC, shared by processes
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmt = (x, d = 0) => (x == null || Number.isNaN(x) ? "–" : x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }));

// ---------------------------------------------------------------- CPU time from /proc
// On-CPU time of a process in ns: the sum over its threads of the first field of
// /proc/<pid>/task/<tid>/schedstat. That is the time utime + stime add up to, in nanoseconds
// instead of 10 ms clock ticks (a 20,000-job run costs PostgreSQL well under a second, spread
// over a dozen processes). null when the process is gone.
function processNs(pid) {
  if (!pid) return null;
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  let ns = 0;
  for (const tid of tids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {} // a thread that just exited
  }
  return ns;
}
const statFields = (pid) => {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  return s.slice(s.lastIndexOf(")") + 2).split(" "); // [0] state, [1] ppid, [13] cutime, [14] cstime
};
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
const POSTMASTER = PGDATA ? Number(readFileSync(`${PGDATA}/postmaster.pid`, "utf8").split("\n")[0]) : null;

// Every process of the benchmark cluster: the postmaster and its children (backends, autovacuum,
// checkpointer, WAL writer, ...), each with its kind, and the CPU time of the children it has
// reaped.
function clusterSnapshot() {
  const per = new Map([[POSTMASTER, { ns: processNs(POSTMASTER), kind: "other" }]]);
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (Number(statFields(d)[1]) === POSTMASTER) per.set(Number(d), { ns: processNs(d), kind: processKind(d) });
    } catch {} // gone meanwhile
  }
  const f = statFields(POSTMASTER);
  return { per, reapedNs: ((Number(f[13]) + Number(f[14])) * 1e9) / CLK_TCK };
}
// A cluster process's kind, from the title PostgreSQL gives it: a backend's names its client
// ("postgres: USER DB 127.0.0.1(PORT) STATE"), the others their role ("postgres: walwriter").
const CLUSTER_KINDS = ["backends", "autovacuum", "walwriter", "exited", "other"];
function processKind(pid) {
  const title = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  if (/ \d+\.\d+\.\d+\.\d+\(\d+\)| \[local\]/.test(title)) return "backends";
  if (title.includes("autovacuum")) return "autovacuum";
  if (title.includes("walwriter")) return "walwriter";
  return "other";
}
// CPU the cluster spent between two snapshots, by kind of process: live processes by their own
// counters; processes that exited in between (an autovacuum worker, a backend) through the
// postmaster's reaped-children time (in clock ticks) less what they had spent before the first
// snapshot ("exited").
function clusterNsByKind(a, b) {
  const by = Object.fromEntries(CLUSTER_KINDS.map((k) => [k, 0]));
  let gone = 0;
  for (const [pid, v] of b.per) if (v.ns != null) by[v.kind] += v.ns - (a.per.get(pid)?.ns ?? 0);
  for (const [pid, v] of a.per) if (!b.per.has(pid) && v.ns != null) gone += v.ns;
  by.exited = Math.max(0, b.reapedNs - a.reapedNs - gone);
  return by;
}
// Time the hypervisor ran something else while this machine's vCPUs wanted to run (steal, the
// eighth figure of /proc/stat's "cpu" line, in clock ticks), summed over the vCPUs, in ms: a round
// that lost some is slower for a reason that is not the system's.
function stealMs() {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  return (Number(cpu[8]) * 1000) / CLK_TCK;
}
const poolerPid = () => (POOLER_PID_FILE && existsSync(POOLER_PID_FILE) ? Number(readFileSync(POOLER_PID_FILE, "utf8")) : null);

// ---------------------------------------------------------------- databases and probes
// Every run gets a database of its own, and the one before it is dropped first, so no run
// shares the machine with autovacuum cleaning up after an earlier one.
let dbCounter = 0;
async function freshDatabase() {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  if (dbCounter > 0) await admin.query(`DROP DATABASE IF EXISTS bench_${process.pid}_${dbCounter - 1} WITH (FORCE)`);
  const name = `bench_${process.pid}_${dbCounter++}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return { name, direct: withDatabase(ADMIN_URL, name), pooled: POOLER_URL && withDatabase(POOLER_URL, name) };
}
const withDatabase = (url, name) => url.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);

// The harness's own connection: the insert, and the probe that waits for the end. Its backend's
// CPU time is left out of PostgreSQL's figure (and printed on its own as the probe's).
async function harnessClient(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // The probes below must be index walks; without statistics (every run's tables are new) a
  // sequential scan could look as cheap to the planner.
  await client.query("SET enable_seqscan = off");
  const { rows } = await client.query("SELECT pg_backend_pid() AS pid");
  client.backendPid = rows[0].pid;
  return client;
}

// Polls `sql` (which must return one boolean column "pending") until it is false.
// A prepared statement, so each probe is an execution only (no parse, no plan).
async function waitUntilDone(client, sql, timeoutMs = 600000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query({ name: "pending", text: sql });
    if (!rows[0].pending) return;
    if (Date.now() > deadline) throw new Error(`timeout waiting for: ${sql}`);
    await sleep(5);
  }
}
// "Is any job left?" costs the same for every system: one walk of a B-tree from its start to the
// first entry whose row is visible, then one heap fetch.
//  * ScraperSky keeps finished jobs; unfinished ones (Queued or InProgress; a check constraint
//    ties finished_at to the final statuses) are exactly the rows of the partial index
//    jobs_active_idx. A finish makes the row leave that index.
//  * graphile-worker deletes a job when it completes, so every row of _private_jobs is an
//    unfinished job, and its primary key indexes exactly those.
//  * pg-boss keeps completed jobs (state 'completed') for deleteAfterSeconds, 7 days. Its partial
//    index job_i14 (name, state, blocked, start_after) holds the jobs in created, retry, active and
//    failed state; the probe walks it and takes the first of them not failed (a failed job is
//    finished too). Claim and completion both change `state`, a key of that index, so neither is
//    a HOT update: a claim adds an entry under 'active', a completion none.
// In all, the entries of finished jobs stay in the index as dead ones until a vacuum; the first
// probe to step over one marks it, later probes skip it within its page. The systems work
// through their jobs roughly in index order, so the probes step over the prefix of finished
// jobs. The probe's backend is not counted in PostgreSQL's CPU; its own cost is printed.
const PROBES = {
  scrapersky: `SELECT (SELECT status FROM jobs WHERE finished_at IS NULL
                       ORDER BY job_type, next_attempt_at LIMIT 1) IS NOT NULL AS pending`,
  graphile: `SELECT (SELECT task_id FROM graphile_worker._private_jobs
                     ORDER BY id LIMIT 1) IS NOT NULL AS pending`,
  pgboss: `SELECT (SELECT id FROM pgboss.job WHERE state IN ('created', 'retry', 'active')
                   ORDER BY name, state, blocked, start_after LIMIT 1) IS NOT NULL AS pending`,
};
const planChecked = new Set();
async function checkProbePlan(client, kind) {
  if (planChecked.has(kind)) return;
  const { rows } = await client.query(`EXPLAIN (COSTS OFF) ${PROBES[kind]}`);
  const plan = rows.map((r) => r["QUERY PLAN"]);
  const scan = plan.find((l) => /Scan/.test(l)) ?? "";
  if (!/Index Scan using/.test(scan)) throw new Error(`${kind} probe is not an index walk:\n${plan.join("\n")}`);
  console.error(`${kind} completion probe: ${scan.trim()}`);
  planChecked.add(kind);
}

const INSERTS = {
  scrapersky: (marker) =>
    `INSERT INTO jobs (job_type, params) SELECT 'page_scrape', '${marker}'::jsonb FROM generate_series(1, $1)`,
  graphile: (task) =>
    `SELECT graphile_worker.add_jobs(array_agg(json_populate_record(null::graphile_worker.job_spec,
       json_build_object('identifier', '${task}', 'payload', '{}'::json)))) FROM generate_series(1, $1)`,
  // pg-boss's insert() (returnId false) and send() (returnId true): one INSERT from a JSON array of
  // jobs, with a pg_notify in the same statement when the queue has `notify`. $1 is the array.
  pgboss: (queue, notify, returnId = false) =>
    pgbossInsertJobs("pgboss", { table: COMMON_JOB_TABLE, name: queue, returnId, notify }),
};
const pgbossJobs = (n, data = {}) => JSON.stringify(Array.from({ length: n }, () => ({ data })));
// The throughput insert and each insert of the background load: n no-op jobs in one statement.
function insertMany(client, sys, n, background = false) {
  if (sys.kind === "scrapersky") return client.query(INSERTS.scrapersky(background ? '{"background": true}' : "{}"), [n]);
  const task = background ? "noop_bg" : "noop";
  if (sys.kind === "graphile") return client.query(INSERTS.graphile(task), [n]);
  return client.query(INSERTS.pgboss(task, sys.listen), [pgbossJobs(n)]);
}

// ---------------------------------------------------------------- ScraperSky
async function startScraperSky(db, sys, env = {}) {
  const pooled = sys.pooler
    ? { DATABASE_URL: db.pooled, DATABASE_POOLER: "transaction", DATABASE_DIRECT_URL: db.direct }
    : { DATABASE_URL: db.direct };
  const childEnv = {
    ...process.env, ...pooled, PORT: "0", JWT_SECRET: SECRET, ENVIRONMENT: "test",
    LOG_LEVEL: "info", TEST_SYNTHETIC_HANDLERS: "true", TEST_SYNTHETIC_COOPERATIVE: "true",
    PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES: String(sys.concurrency),
    PAGE_SCRAPE_SCHEDULER_BATCH_SIZE: String(sys.batch),
    ...env,
  };
  // A setting without a batch ("500"): the server's own default, not one inherited from this shell.
  if (sys.batch == null) delete childEnv.PAGE_SCRAPE_SCHEDULER_BATCH_SIZE;
  const child = spawn(sys.bin ?? BIN, ["serve"], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  let out = "", ready = false;
  await new Promise((resolve, reject) => {
    const onData = (d) => {
      if (ready) return; // keep draining the pipes, keep nothing
      out += d;
      if (out.includes("listening on")) { ready = true; out = ""; resolve(); }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`scrapersky exited ${code}: ${out}`)));
    setTimeout(() => reject(new Error("scrapersky did not start")), 60000).unref(); // not to hold the exit
  }).catch((e) => { child.kill("SIGKILL"); throw e; });
  return {
    pid: child.pid,
    stop: async () => {
      const closed = new Promise((r) => child.on("close", r));
      child.kill("SIGTERM");
      await closed;
    },
  };
}

// ---------------------------------------------------------------- graphile-worker and pg-boss
// Each in a separate Node process (graphile-worker.mjs, pg-boss.mjs), so that its CPU time is its
// own. Both print "ready" once they work, and "start <i> <ms>" as a measured job's handler begins.
function startGraphile(db, sys, onStart) {
  return startNodeWorker("graphile-worker", GRAPHILE_SCRIPT, { url: db.direct, pool: sys.pool, options: sys.options }, onStart);
}
function startPgBoss(db, sys, onStart, background) {
  // The background queue's workers only for the runs with background load: each work() polls.
  const config = { url: db.direct, max: sys.max, listen: sys.listen, background: !!background, work: sys.work };
  return startNodeWorker("pg-boss", PGBOSS_SCRIPT, config, onStart);
}
async function startNodeWorker(label, script, config, onStart) {
  const child = spawn(process.execPath, [script, JSON.stringify(config)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  await new Promise((resolve, reject) => {
    lines.on("line", (line) => {
      if (line.startsWith("ready")) resolve();
      else if (line.startsWith("start ")) {
        const [, i, ms] = line.split(" ");
        onStart?.(Number(i), Number(ms));
      }
    });
    child.on("exit", (code) => reject(new Error(`${label} exited ${code}`)));
    setTimeout(() => reject(new Error(`${label} did not start`)), 60000).unref(); // not to hold the exit
  }).catch((e) => { child.kill("SIGKILL"); throw e; });
  return {
    pid: child.pid,
    stop: async () => {
      const closed = new Promise((r) => child.on("close", r)); // after its stdout is read
      child.stdin.end();
      await closed;
    },
  };
}

const start = (db, sys, extra) =>
  sys.kind === "scrapersky" ? startScraperSky(db, sys, extra?.env)
  : sys.kind === "graphile" ? startGraphile(db, sys, extra?.onStart)
  : startPgBoss(db, sys, extra?.onStart, extra?.background);

// ---------------------------------------------------------------- throughput
// The CHECKPOINT just before the insert keeps a checkpoint's writes, and the full-page images the
// first change of each page after a checkpoint logs, out of every measurement. CPU time is read
// before the insert and after the end; the harness's backend (insert and probes) is subtracted.
async function throughput(sys) {
  const db = await freshDatabase();
  const worker = await start(db, sys);
  const client = await harnessClient(db.direct);
  await checkProbePlan(client, sys.kind);
  await client.query("CHECKPOINT");
  const pooler = sys.pooler ? poolerPid() : null;
  const pg0 = clusterSnapshot(), w0 = processNs(worker.pid), h0 = processNs(client.backendPid), b0 = processNs(pooler);
  const steal0 = stealMs();
  await insertMany(client, sys, ITEMS);
  const t0 = nowMs(), h1 = processNs(client.backendPid);
  await waitUntilDone(client, PROBES[sys.kind]);
  const seconds = (nowMs() - t0) / 1000;
  const pg1 = clusterSnapshot(), w1 = processNs(worker.pid), h2 = processNs(client.backendPid), b1 = processNs(pooler);
  const steal = stealMs() - steal0;
  await client.end();
  await worker.stop();
  const perJob = (ns) => ns / ITEMS / 1000; // µs per job = ms per 1,000 jobs
  const byKind = clusterNsByKind(pg0, pg1);
  byKind.backends -= h2 - h0; // the harness's own backend
  const postgresNs = Object.values(byKind).reduce((x, y) => x + y, 0);
  return {
    jobs_per_s: ITEMS / seconds,
    seconds,
    steal_ms: steal,
    cpu_us_per_job: {
      postgres: perJob(postgresNs),
      postgres_by_kind: Object.fromEntries(Object.entries(byKind).map(([k, ns]) => [k, perJob(ns)])),
      worker: perJob(w1 - w0),
      pooler: pooler ? perJob(b1 - b0) : null,
      insert: perJob(h1 - h0),
      probe: perJob(h2 - h1),
    },
  };
}

// ---------------------------------------------------------------- latency
// Background load: `rate` jobs/s from a connection of its own, as one multi-row insert every
// 10 ms of however many jobs are due by then. ScraperSky's are page_scrape jobs marked
// {"background": true} (the synthetic handler serves only page_scrape), graphile-worker's are
// jobs of a second task, noop_bg, served by the same workers as the measured jobs; pg-boss's
// are jobs of a second queue, noop_bg, with workers of their own (a work() serves one queue) in
// the same process and pool.
async function startBackground(db, sys, rate) {
  const client = new pg.Client({ connectionString: db.direct });
  await client.connect();
  let stopping = false, sent = 0;
  const t0 = nowMs();
  const loop = (async () => {
    while (!stopping) {
      const due = Math.floor(((nowMs() - t0) / 1000) * rate) - sent;
      if (due > 0) {
        await insertMany(client, sys, due, true);
        sent += due;
      }
      await sleep(10);
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await loop;
      await client.end();
      return sent / ((nowMs() - t0) / 1000);
    },
  };
}

// The floor: what one round trip from the harness to PostgreSQL costs here, the way a pickup's
// claim is sent: a prepared statement on a connection idle between calls (an idle gap is what
// makes a round trip slow on this machine kind, see the README). A prepared SELECT 1 on a
// connection of its own, as many times and as far apart as the measured inserts, timed from send
// to result on the pickup figures' clock. It runs right before the inserts, with the worker up
// and the background load running, not between them: a query in each gap would halve the time
// the machine idles before every insert, and so change the pickups it is the floor of.
const FLOOR = { name: "floor", text: "SELECT 1" };
async function floorClient(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(FLOOR); // parsed and planned here, so every sample is an execution only
  return client;
}
async function floorSamples(client, clock) {
  const ms = [];
  for (let i = 0; i < LATENCY_COUNT; i++) {
    const t0 = clock();
    await client.query(FLOOR);
    ms.push(clock() - t0);
    await sleep(SPACING_MS);
  }
  return ms;
}

// The bare pickup: ScraperSky's pickup with the server taken out, in the same run as its pickups
// and interleaved with them sample by sample. An insert into a table shaped as jobs (its
// indexes, its counting triggers, a NOTIFY trigger of its own channel, so the server hears
// none of it) wakes a LISTENing connection, and the engine's one-row claim runs at once on an
// engine session (queue_statements.py's), timed from the insert
// returning to the claim's answer. The claimed row is finished off the clock, right after.
const BARE_TABLE = "bench_bare_jobs";
async function barePickup(url) {
  // The engine's session settings and its claim, from the statements the one-backend scripts use.
  const engine = JSON.parse(
    execFileSync("python3", [new URL("./queue_statements.py", import.meta.url).pathname, "json", "node-bare"]).toString(),
  );
  const bareClaim = engine.claim.replace(/^PREPARE claim\(int\) AS /, "").replace(/\bjobs\b/g, BARE_TABLE);
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query(`CREATE TABLE ${BARE_TABLE} (LIKE jobs INCLUDING ALL) WITH (fillfactor = 40);
    CREATE FUNCTION bench_bare_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('bench_bare', NEW.job_type); RETURN NULL; END $$;
    CREATE TRIGGER bare_queued_notify AFTER INSERT OR UPDATE OF status ON ${BARE_TABLE}
      FOR EACH ROW WHEN (NEW.status = 'Queued') EXECUTE FUNCTION bench_bare_notify();
    CREATE TRIGGER bare_count_inserted AFTER INSERT ON ${BARE_TABLE} REFERENCING NEW TABLE AS new_jobs
      FOR EACH STATEMENT EXECUTE FUNCTION sky_count_job_statuses();
    CREATE TRIGGER bare_count_updated AFTER UPDATE ON ${BARE_TABLE}
      REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
      FOR EACH STATEMENT EXECUTE FUNCTION sky_count_job_statuses()`);
  await setup.end();
  const connect = async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return c;
  };
  const listener = await connect(), claimer = await connect(), inserter = await connect();
  // The engine's session settings and its claims' commit setting (actors/queue_driver.cpp).
  await claimer.query(`${engine.session}; SET synchronous_commit = off`);
  const claim = { name: "bare_claim", text: bareClaim, values: [500] };
  await claimer.query(claim); // prepared here (it finds nothing), so every sample is an execution only
  const waiting = [];
  let heard = 0;
  listener.on("notification", () => {
    if (waiting.length) waiting.shift()();
    else heard++;
  });
  await listener.query("LISTEN bench_bare");
  const notified = () => (heard > 0 ? (heard--, Promise.resolve()) : new Promise((r) => waiting.push(r)));
  return {
    // One sample (ms), on `clock`.
    sample: async (clock) => {
      await inserter.query(`INSERT INTO ${BARE_TABLE} (job_type, params) VALUES ('page_scrape', '{}')`);
      const t0 = clock();
      await notified();
      const { rows } = await claimer.query(claim);
      const ms = clock() - t0;
      if (rows.length !== 1) throw new Error(`bare pickup: claimed ${rows.length} rows, not 1`);
      await inserter.query(`UPDATE ${BARE_TABLE} SET status = 'Completed', finished_at = now(), locked_by = NULL
        WHERE finished_at IS NULL`);
      return ms;
    },
    end: async () => Promise.all([listener.end(), claimer.end(), inserter.end()]),
  };
}

async function latency(sys, rate) {
  const db = await freshDatabase();
  const sky = sys.kind === "scrapersky";
  const log = `/tmp/sky_bench_exec_${process.pid}`;
  if (existsSync(log)) rmSync(log);
  const started = new Map(); // graphile, pg-boss: i -> start (CLOCK_MONOTONIC ms)
  const worker = await start(db, sys, {
    env: { TEST_EXECUTION_LOG: log }, onStart: (i, ms) => started.set(i, ms), background: rate > 0,
  });
  const client = await harnessClient(db.direct);
  const floorConn = await floorClient(db.direct);
  // ScraperSky's handler logs its start on the wall clock; graphile-worker's and pg-boss's
  // processes print it on the monotonic clock. Each side is compared with the same clock read here.
  const clock = sky ? nowMs : hrMs;
  const background = rate > 0 ? await startBackground(db, sys, rate) : null;
  await sleep(background ? 1000 : 500);
  const floor = await floorSamples(floorConn, clock); // ends with a gap, so the first insert follows one
  const bare = sky ? await barePickup(db.direct) : null;
  const bareMs = [];
  const issued = new Map(), returned = new Map();
  for (let i = 0; i < LATENCY_COUNT; i++) {
    if (bare) {
      // Between two of the server's samples, with a full gap before each.
      bareMs.push(await bare.sample(clock));
      await sleep(SPACING_MS);
    }
    const t0 = clock();
    let key = i;
    if (sky) {
      const { rows } = await client.query(`INSERT INTO jobs (job_type, params) VALUES ('page_scrape', '{}') RETURNING id::text`);
      key = rows[0].id;
    } else if (sys.kind === "graphile") {
      await client.query(`SELECT graphile_worker.add_job('noop', json_build_object('i', $1::int))`, [i]);
    } else {
      await client.query(INSERTS.pgboss("noop", sys.listen, true), [pgbossJobs(1, { i })]); // as send() does
    }
    const t1 = clock();
    issued.set(key, t0);
    returned.set(key, t1);
    await sleep(SPACING_MS);
  }
  const achieved = background ? await background.stop() : 0;
  await waitUntilDone(client, PROBES[sys.kind]);
  await client.end();
  await floorConn.end(); // not before the inserts: a backend exiting would be in their first gap
  if (bare) await bare.end();
  await worker.stop();
  if (sky) {
    // Lines "<id> <start ns> <end ns> <node>"; background jobs are not in `issued`.
    for (const line of readFileSync(log, "utf8").trim().split("\n")) {
      const [id, startNs] = line.split(" ");
      if (issued.has(id)) started.set(id, Number(BigInt(startNs) / 1000n) / 1000);
    }
    rmSync(log);
  }
  const fromIssue = [], fromReturn = [];
  for (const [key, t0] of issued) {
    const s = started.get(key);
    if (s == null) throw new Error(`${sys.name}: no start recorded for job ${key}`);
    fromIssue.push(s - t0);
    fromReturn.push(s - returned.get(key));
  }
  return {
    p50_return: pct(fromReturn, 50), p99_return: pct(fromReturn, 99),
    p50_issue: pct(fromIssue, 50), p99_issue: pct(fromIssue, 99), background_rate: achieved,
    floor_p50: pct(floor, 50), floor_p99: pct(floor, 99),
    bare_p50: bare ? pct(bareMs, 50) : null, bare_p99: bare ? pct(bareMs, 99) : null,
  };
}

// ---------------------------------------------------------------- the systems
// --configs=500x500,1000x500: ScraperSky's concurrency x batch settings. A setting without xBATCH
// (500) sets the concurrency only and leaves the batch size to the server's default; its
// row is named without a batch (scrapersky c500) and is a candidate like the others. With
// --pooler-url every setting runs a second time with the server's connections through the
// pooler. With --compare-bin=path every row runs a second time with that binary, right after
// the first (an A/B comparison of two builds; --compare-label names it, "compare" by default);
// those rows are not candidates for ScraperSky's best setting.
const skySystems = (args.configs ?? "16x16,64x64,500,500x500,1000x500,1000x1000").split(",").flatMap((spec) => {
  const m = /^(\d+)(?:x(\d+))?$/.exec(spec);
  if (!m) throw new Error(`--configs: ${spec} is not CONCURRENCY[xBATCH]`);
  const [concurrency, batch] = [Number(m[1]), m[2] == null ? null : Number(m[2])];
  const name = `scrapersky c${concurrency}` + (batch == null ? "" : ` b${batch}`);
  const base = { kind: "scrapersky", concurrency, batch, name };
  const rows = POOLER_URL ? [base, { ...base, pooler: true, name: `${base.name} via pgbouncer` }] : [base];
  return COMPARE_BIN ? rows.flatMap((r) => [r, { ...r, bin: COMPARE_BIN, name: `${r.name} [${COMPARE_LABEL}]` }]) : rows;
});
// --graphile=24x500,64x1000,default: graphile-worker's concurrency x local queue size, with a
// pool of concurrency + 1 connections and batched completions (completeJobBatchDelay 0);
// "default" is its out-of-the-box configuration (concurrency 1, pool 10, no local queue).
const graphileSystems = (args.graphile ?? "24x500,24x1000,24x2000,64x500,64x1000,128x500,128x1000,128x2000,default").split(",").map((spec) => {
  if (spec === "default") return { kind: "graphile", name: "graphile default", pool: 10, options: {}, swept: false };
  const [concurrency, size] = spec.split("x").map(Number);
  return {
    kind: "graphile", name: `graphile c${concurrency} lq${size}`, pool: concurrency + 1, swept: true,
    options: { concurrency, preset: { worker: { localQueue: { size }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } } },
  };
});
// --pgboss=500x4,500x4p2,500x16m10: pg-boss's work() batchSize x localConcurrency, with pN its
// pollingIntervalSeconds (0.5, its minimum, unless given; 2 is its default) and mN the pool's `max`
// (2 x localConcurrency + 2 unless given: a connection for each worker of noop and of noop_bg, and
// two for pg-boss's own upkeep). Every setting fetches again at once while batches come back full
// (burstWhenBatchFull) and wakes on LISTEN/NOTIFY (useListenNotify, queues with `notify`), with the
// same interval as the backstop poll then (notifyPollingIntervalSeconds): without these a worker
// waits out the interval after every batch. There is no row of its defaults (batchSize 1, one
// worker, a 2 s poll, no burst): that is one job every 2 s.
const pgbossSystems = (args.pgboss ?? "50x4,100x4,500x4,1000x4,500x1,500x2,500x16,500x4p2,500x16m10").split(",").map((spec) => {
  const m = /^(\d+)x(\d+)(?:p(\d+(?:\.\d+)?))?(?:m(\d+))?$/.exec(spec);
  if (!m) throw new Error(`--pgboss: ${spec} is not BATCHxCONCURRENCY[pSECONDS][mPOOL]`);
  const [batchSize, localConcurrency] = [Number(m[1]), Number(m[2])];
  const polling = Number(m[3] ?? 0.5);
  return {
    kind: "pgboss", name: `pgboss b${batchSize} c${localConcurrency} p${polling}` + (m[4] ? ` max${m[4]}` : ""), swept: true,
    max: Number(m[4] ?? 2 * localConcurrency + 2), listen: true,
    work: { batchSize, localConcurrency, pollingIntervalSeconds: polling, notifyPollingIntervalSeconds: polling, burstWhenBatchFull: true },
  };
});
// --only=scrapersky runs just ScraperSky (for quick iterations; the README quotes full runs).
const chosen = [...skySystems, ...graphileSystems, ...pgbossSystems].filter((s) => !args.only || s.name.startsWith(args.only));

// ---------------------------------------------------------------- main
const results = {
  items: ITEMS, runs: RUNS, latency_inserts: LATENCY_COUNT, background_rate: BACKGROUND_RATE,
  throughput: {}, best: null, shipped: null, latency: {},
};
// Repetitions are interleaved (each round runs every system once), so a machine that gets
// faster or slower during the run affects all systems alike; even rounds run the list
// backwards, so that no system always runs right after the same neighbour.
const runs = Object.fromEntries(chosen.map((s) => [s.name, []]));
for (let round = 1; round <= RUNS; round++) {
  for (const sys of round % 2 ? chosen : [...chosen].reverse()) {
    const r = await throughput(sys);
    runs[sys.name].push(r);
    const c = r.cpu_us_per_job;
    console.error(
      `${sys.name} (round ${round}): ${fmt(r.jobs_per_s)} jobs/s; CPU µs per job: postgres ${fmt(c.postgres, 1)} ` +
        `(${CLUSTER_KINDS.map((k) => `${k} ${fmt(c.postgres_by_kind[k], 1)}`).join(", ")}), ` +
        `worker ${fmt(c.worker, 1)}${c.pooler != null ? `, pgbouncer ${fmt(c.pooler, 1)}` : ""}; ` +
        `harness backend: insert ${fmt(c.insert, 1)}, probe ${fmt(c.probe, 1)}; ` +
        `${fmt(r.seconds * 1000)} ms, steal ${fmt(r.steal_ms)} ms`,
    );
  }
}
const cpuMedian = (rs, k) => (rs[0].cpu_us_per_job[k] == null ? null : median(rs.map((r) => r.cpu_us_per_job[k])));
for (const sys of chosen) {
  const rs = runs[sys.name];
  const m = (k) => cpuMedian(rs, k);
  results.throughput[sys.name] = {
    median: median(rs.map((r) => r.jobs_per_s)),
    runs: rs.map((r) => r.jobs_per_s),
    cpu_us_per_job: { postgres: m("postgres"), worker: m("worker"), pooler: m("pooler"), insert: m("insert"), probe: m("probe"),
      total: median(rs.map((r) => r.cpu_us_per_job.postgres + r.cpu_us_per_job.worker + (r.cpu_us_per_job.pooler ?? 0))) },
    runs_cpu_us_per_job: rs.map((r) => r.cpu_us_per_job),
    runs_steal_ms: rs.map((r) => r.steal_ms),
  };
}
const fastest = (list) => list.reduce((a, s) => (!a || results.throughput[s.name].median > results.throughput[a.name].median ? s : a), null);
const bestOf = (pred) => fastest(chosen.filter(pred));
const skyBest = bestOf((s) => s.kind === "scrapersky" && !s.pooler && !s.bin);
// The shipped setting: the first direct row that sets the worker count alone (the server picks its
// claims), which the targets are about, whichever row was fastest.
const skyShipped = chosen.find((s) => s.kind === "scrapersky" && s.batch == null && !s.pooler && !s.bin);
const skyBestPooled = bestOf((s) => s.kind === "scrapersky" && s.pooler && !s.bin);
const graphileBest = bestOf((s) => s.kind === "graphile" && s.swept);
const pgbossBest = bestOf((s) => s.kind === "pgboss" && s.swept);
// The best peer: the faster of the two peers' best swept settings, by median.
const peerBest = fastest([graphileBest, pgbossBest].filter(Boolean));
if (peerBest) {
  const a = skyBest && results.throughput[skyBest.name], b = results.throughput[peerBest.name];
  const peer = (s) => {
    const median = s && results.throughput[s.name].median;
    return s && { name: s.name, median, ratio: a ? a.median / median : null };
  };
  // A ScraperSky row against the best peer: the medians' ratio and the rounds' one by one.
  const against = (t) => ({ ratio: t.median / b.median, rounds: t.runs.map((v, i) => v / b.runs[i]) });
  results.best = {
    scrapersky: skyBest?.name ?? null, peer: peerBest.name, ratio: null, rounds: null, ...(a && against(a)),
    peers: { graphile: peer(graphileBest), pgboss: peer(pgbossBest) },
  };
  if (skyShipped) {
    const t = results.throughput[skyShipped.name];
    results.shipped = {
      scrapersky: skyShipped.name, peer: peerBest.name, ...against(t),
      cpu_ratio: t.cpu_us_per_job.total / b.cpu_us_per_job.total,
    };
  }
}

// Pickup latency of each system at its best throughput setting (and ScraperSky's shipped setting
// if another was faster, and its best through the pooler), idle and under background load;
// rounds interleaved as above.
if (LATENCY_COUNT > 0) {
  const latencySystems = [skyBest, skyShipped === skyBest ? null : skyShipped, skyBestPooled, graphileBest, pgbossBest]
    .filter(Boolean);
  const variants = latencySystems.flatMap((s) => [[s, 0], ...(BACKGROUND_RATE > 0 ? [[s, BACKGROUND_RATE]] : [])]);
  const label = ([s, rate]) => `${s.name}${rate ? `, ${fmt(rate)} jobs/s background` : ", idle"}`;
  const samples = Object.fromEntries(variants.map((v) => [label(v), []]));
  for (let round = 1; round <= LATENCY_RUNS; round++) {
    for (const v of round % 2 ? variants : [...variants].reverse()) {
      const r = await latency(...v);
      samples[label(v)].push(r);
      console.error(
        `${label(v)} (round ${round}): p50 ${fmt(r.p50_return, 2)} ms, p99 ${fmt(r.p99_return, 2)} ms from return; ` +
          `floor p50 ${fmt(r.floor_p50, 2)} ms, p99 ${fmt(r.floor_p99, 2)} ms` +
          (r.bare_p50 == null ? "" : `; bare pickup p50 ${fmt(r.bare_p50, 2)} ms, p99 ${fmt(r.bare_p99, 2)} ms`) +
          (v[1] ? ` (background ${fmt(r.background_rate)} jobs/s)` : ""),
      );
    }
  }
  for (const [name, rs] of Object.entries(samples)) {
    const r = Object.fromEntries(
      ["p50_return", "p99_return", "p50_issue", "p99_issue", "background_rate", "floor_p50", "floor_p99",
        "bare_p50", "bare_p99"]
        .map((k) => [k, rs[0][k] == null ? null : median(rs.map((x) => x[k]))]),
    );
    // Over the floor: the table's two medians, so the figure can be read off the table.
    r.p50_over_floor = r.p50_return - r.floor_p50;
    r.floor_samples = LATENCY_COUNT;
    r.floor_runs = rs.map((x) => ({ p50: x.floor_p50, p99: x.floor_p99 }));
    results.latency[name] = r;
  }
}

// ---------------------------------------------------------------- report
const ref = peerBest ? results.throughput[peerBest.name].median : NaN;
console.log(`\n${fmt(ITEMS)} no-op jobs, medians of ${RUNS} round(s); CPU in µs per job (= ms per 1,000 jobs)\n`);
console.log(`| system | jobs/s (median) | runs | vs best peer | CPU postgres | CPU worker | CPU pgbouncer | CPU total | insert | probe |`);
console.log("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const [name, r] of Object.entries(results.throughput)) {
  const c = r.cpu_us_per_job;
  console.log(
    `| ${name} | ${fmt(r.median)} | ${r.runs.map((v) => fmt(v)).join(", ")} | ${Number.isNaN(ref) ? "–" : `${(r.median / ref).toFixed(2)}x`} | ` +
      `${fmt(c.postgres, 1)} | ${fmt(c.worker, 1)} | ${c.pooler == null ? "–" : fmt(c.pooler, 1)} | ${fmt(c.total, 1)} | ` +
      `${fmt(c.insert, 1)} | ${fmt(c.probe, 1)} |`,
  );
}
if (results.best) {
  const b = results.best;
  if (b.scrapersky) {
    console.log(
      `\nbest/best: ${b.scrapersky} / ${b.peer} (best peer) = ${b.ratio.toFixed(2)}x ` +
        `(round by round: ${b.rounds.map((x) => `${x.toFixed(2)}x`).join(", ")})`,
    );
  }
  const peers = Object.values(b.peers).filter(Boolean)
    .map((p) => `${p.name} ${fmt(p.median)} jobs/s${p.ratio == null ? "" : ` (${b.scrapersky} ${p.ratio.toFixed(2)}x)`}`);
  console.log(`${b.scrapersky ? "" : "\n"}each peer's best: ${peers.join("; ")}`);
}
if (results.shipped) {
  const h = results.shipped;
  console.log(
    `shipped/best: ${h.scrapersky} / ${h.peer} (best peer) = ${h.ratio.toFixed(2)}x ` +
      `(round by round: ${h.rounds.map((x) => `${x.toFixed(2)}x`).join(", ")}), CPU per job ${h.cpu_ratio.toFixed(2)}x`,
  );
}
if (Object.keys(results.latency).length) {
  console.log(
    `\npickup latency, ${LATENCY_COUNT} single inserts ${SPACING_MS} ms apart, and the floor: ${LATENCY_COUNT} prepared ` +
      `SELECT 1, ${SPACING_MS} ms apart, on a connection of its own (ms; median of ${LATENCY_RUNS} run(s))\n`,
  );
  console.log(
    "| system | p50 from return | p99 from return | floor p50 | floor p99 | bare pickup p50 | bare pickup p99 | " +
      "p50 from issue | p99 from issue |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  const ms = (x) => (x == null ? "–" : fmt(x, 2));
  for (const [name, r] of Object.entries(results.latency)) {
    console.log(
      `| ${name} | ${ms(r.p50_return)} | ${ms(r.p99_return)} | ${ms(r.floor_p50)} | ${ms(r.floor_p99)} | ` +
        `${ms(r.bare_p50)} | ${ms(r.bare_p99)} | ${ms(r.p50_issue)} | ${ms(r.p99_issue)} |`,
    );
  }
  console.log("");
  for (const [name, r] of Object.entries(results.latency))
    console.log(`${name}: p50 over the floor: ${r.p50_over_floor < 0 ? "" : "+"}${fmt(r.p50_over_floor, 2)} ms`);
}
console.log(JSON.stringify(results));
