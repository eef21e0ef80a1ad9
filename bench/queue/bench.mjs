// Queue benchmark: the same workloads through ScraperSky's engine and graphile-worker, on one
// PostgreSQL, in one run. Prints a table and writes results.json.
//
//   throughput: N no-op jobs inserted in one statement into an idle, running system; time from
//               the insert's commit until every job is finished in the database.
//   latency:    single inserts, 50 ms apart, into an idle system; time from the insert being
//               issued / returning to the handler starting.
import { spawn } from "node:child_process";
import { readFileSync, existsSync, rmSync } from "node:fs";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { run as graphileRun } from "graphile-worker";

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")).map(([k, v]) => [k, v ?? "1"]),
);
const ADMIN_URL = args.admin; // postgresql://.../postgres
const BIN = args.bin; // scrapersky release binary
const ITEMS = Number(args.items ?? 20000);
const RUNS = Number(args.runs ?? 5);
const LATENCY_COUNT = Number(args.latency ?? 200);
const SECRET = "bench-secret-bench-secret-bench-secret-01";

const nowMs = () => performance.timeOrigin + performance.now(); // wall clock, µs precision
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

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
  return ADMIN_URL.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);
}

// Run just before a measured workload: the measurement then never includes a checkpoint's
// writes, nor the full-page images the first change of each page after a checkpoint logs.
async function checkpoint(client) {
  await client.query("CHECKPOINT");
}

// Polls `sql` (which must return one boolean column "pending") until it is false. The queries
// are index probes, so watching costs the database next to nothing.
async function waitUntilDone(client, sql, timeoutMs = 600000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query(sql);
    if (!rows[0].pending) return;
    if (Date.now() > deadline) throw new Error(`timeout waiting for: ${sql}`);
    await sleep(5);
  }
}
// Unfinished jobs (Queued or InProgress; a check constraint ties finished_at to the final
// statuses) are exactly the rows of the partial index jobs_active_idx. The probe walks that
// index in its order (a plain EXISTS gets a sequential scan on a table without statistics,
// which reads every finished row, about a millisecond per probe at 20,000 rows).
const SKY_PENDING = `SELECT (SELECT status FROM jobs WHERE finished_at IS NULL
                             ORDER BY job_type, next_attempt_at LIMIT 1) IS NOT NULL AS pending`;
const GRAPHILE_PENDING = `SELECT EXISTS (SELECT 1 FROM graphile_worker._private_jobs) AS pending`;

// ---------------------------------------------------------------- ScraperSky
async function startScraperSky(url, env) {
  const child = spawn(BIN, ["serve"], {
    env: {
      ...process.env, DATABASE_URL: url, PORT: "0", JWT_SECRET: SECRET, ENVIRONMENT: "test",
      LOG_LEVEL: "info", TEST_SYNTHETIC_HANDLERS: "true", TEST_SYNTHETIC_COOPERATIVE: "true", ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  await new Promise((resolve, reject) => {
    const onData = (d) => {
      out += d;
      if (out.includes("listening on")) resolve();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`scrapersky exited ${code}: ${out}`)));
    setTimeout(() => reject(new Error("scrapersky did not start")), 60000);
  }).catch(async (e) => { child.kill("SIGKILL"); throw e; });
  return child;
}

async function stopChild(child) {
  const exited = new Promise((r) => child.on("exit", r));
  child.kill("SIGTERM");
  await exited;
}

async function scraperskyThroughput(concurrency, batch) {
  const url = await freshDatabase();
  const server = await startScraperSky(url, {
    LOG_LEVEL: "info",
    PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES: String(concurrency),
    PAGE_SCRAPE_SCHEDULER_BATCH_SIZE: String(batch),
  });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await checkpoint(client);
  await client.query(
    `INSERT INTO jobs (job_type, params) SELECT 'page_scrape', '{}'::jsonb FROM generate_series(1, $1)`,
    [ITEMS],
  );
  const t0 = nowMs();
  await waitUntilDone(client, SKY_PENDING);
  const seconds = (nowMs() - t0) / 1000;
  // The server's own CPU time (user + system, start-up included), from /proc.
  const stat = readFileSync(`/proc/${server.pid}/stat`, "utf8").split(") ")[1].split(" ");
  const cpuSeconds = (Number(stat[11]) + Number(stat[12])) / 100;
  console.error(`  scrapersky c${concurrency} b${batch}: server CPU ${cpuSeconds.toFixed(2)} s`);
  await client.end();
  await stopChild(server);
  return ITEMS / seconds;
}

async function scraperskyLatency() {
  const url = await freshDatabase();
  const log = `/tmp/sky_bench_exec_${process.pid}`;
  if (existsSync(log)) rmSync(log);
  const server = await startScraperSky(url, { LOG_LEVEL: "info", TEST_EXECUTION_LOG: log });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const issued = new Map(), returned = new Map();
  await sleep(500);
  for (let i = 0; i < LATENCY_COUNT; i++) {
    const t0 = nowMs();
    const { rows } = await client.query(
      `INSERT INTO jobs (job_type, params) VALUES ('page_scrape', '{}') RETURNING id::text`,
    );
    const t1 = nowMs();
    issued.set(rows[0].id, t0);
    returned.set(rows[0].id, t1);
    await sleep(50);
  }
  await waitUntilDone(client, SKY_PENDING);
  await client.end();
  await stopChild(server);
  const fromIssue = [], fromReturn = [];
  for (const line of readFileSync(log, "utf8").trim().split("\n")) {
    const [id, startNs] = line.split(" ");
    const start = Number(BigInt(startNs) / 1000n) / 1000; // ns -> ms
    fromIssue.push(start - issued.get(id));
    fromReturn.push(start - returned.get(id));
  }
  rmSync(log);
  return { fromIssue, fromReturn };
}

// ---------------------------------------------------------------- graphile-worker
const GRAPHILE_CONFIGS = {
  default: {},
  recommended: {
    concurrency: 24,
    maxPoolSize: 25,
    preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  },
};

const silentLogger = {
  scope: () => silentLogger,
  debug() {}, info() {}, warn() {}, error(...a) { console.error(...a); },
};

// graphile-worker gets a pool of ours (sized as its own would be), so that stopping it closes
// every connection before the run's database is dropped.
async function startGraphile(url, config, onJob) {
  const { Logger } = await import("graphile-worker");
  const pgPool = new pg.Pool({ connectionString: url, max: config.maxPoolSize ?? 10 });
  // Errors of connections closed by the drop of a finished run's database are expected.
  pgPool.on("error", () => {});
  pgPool.on("connect", (client) => client.on("error", () => {}));
  const runner = await graphileRun({
    pgPool,
    noHandleSignals: true,
    logger: new Logger(() => () => {}),
    taskList: { noop: async (payload) => { onJob?.(payload); } },
    ...config,
  });
  return { stop: async () => { await runner.stop(); await pgPool.end(); } };
}

async function graphileThroughput(config) {
  const url = await freshDatabase();
  const runner = await startGraphile(url, config);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await checkpoint(client);
  await client.query(
    `SELECT graphile_worker.add_jobs(array_agg(json_populate_record(null::graphile_worker.job_spec,
       json_build_object('identifier', 'noop', 'payload', '{}'::json)))) FROM generate_series(1, $1)`,
    [ITEMS],
  );
  const t0 = nowMs();
  await waitUntilDone(client, GRAPHILE_PENDING);
  const seconds = (nowMs() - t0) / 1000;
  await client.end();
  await runner.stop();
  return ITEMS / seconds;
}

async function graphileLatency(config) {
  const url = await freshDatabase();
  const started = new Map();
  const runner = await startGraphile(url, config, (p) => started.set(p.i, nowMs()));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const issued = [], returned = [];
  await sleep(500);
  for (let i = 0; i < LATENCY_COUNT; i++) {
    const t0 = nowMs();
    await client.query(`SELECT graphile_worker.add_job('noop', json_build_object('i', $1::int))`, [i]);
    issued.push(t0);
    returned.push(nowMs());
    await sleep(50);
  }
  await waitUntilDone(client, GRAPHILE_PENDING);
  await client.end();
  await runner.stop();
  const fromIssue = [], fromReturn = [];
  for (let i = 0; i < LATENCY_COUNT; i++) {
    fromIssue.push(started.get(i) - issued[i]);
    fromReturn.push(started.get(i) - returned[i]);
  }
  return { fromIssue, fromReturn };
}

// ---------------------------------------------------------------- main
async function repeatLatency(fn) {
  const p50i = [], p99i = [], p50r = [], p99r = [];
  for (let i = 0; i < RUNS; i++) {
    const { fromIssue, fromReturn } = await fn();
    p50i.push(pct(fromIssue, 50)); p99i.push(pct(fromIssue, 99));
    p50r.push(pct(fromReturn, 50)); p99r.push(pct(fromReturn, 99));
  }
  return { p50_issue: median(p50i), p99_issue: median(p99i), p50_return: median(p50r), p99_return: median(p99r) };
}

const results = { items: ITEMS, runs: RUNS, latency_inserts: LATENCY_COUNT, throughput: {}, latency: {} };
// --configs=500x500,1000x500 replaces ScraperSky's concurrency x batch settings.
const skyConfigs = (args.configs ?? "16x16,64x64,500x500").split(",").map((c) => c.split("x").map(Number));
const systems = [
  ...skyConfigs.map(([c, b]) => [`scrapersky c${c} b${b}`, () => scraperskyThroughput(c, b)]),
  ["graphile default", () => graphileThroughput(GRAPHILE_CONFIGS.default)],
  ["graphile recommended", () => graphileThroughput(GRAPHILE_CONFIGS.recommended)],
];
// --only=scrapersky runs just ScraperSky (for quick iterations; the README quotes full runs).
const only = args.only;
// Repetitions are interleaved (each round runs every system once), so a machine that gets
// faster or slower during the run affects all systems alike.
const chosen = systems.filter(([n]) => !only || n.startsWith(only));
const values = Object.fromEntries(chosen.map(([name]) => [name, []]));
for (let i = 0; i < RUNS; i++) {
  for (const [name, fn] of chosen) {
    values[name].push(await fn());
    console.error(`${name} (round ${i + 1}): ${values[name].at(-1).toFixed(0)} jobs/s`);
  }
}
for (const [name] of chosen) results.throughput[name] = { median: median(values[name]), runs: values[name] };
results.latency["scrapersky"] = await repeatLatency(scraperskyLatency);
if (!only) {
  results.latency["graphile default"] = await repeatLatency(() => graphileLatency(GRAPHILE_CONFIGS.default));
  results.latency["graphile recommended"] = await repeatLatency(() => graphileLatency(GRAPHILE_CONFIGS.recommended));
}

const rec = results.throughput["graphile recommended"]?.median ?? NaN;
console.log(`\n${ITEMS} no-op jobs, medians of ${RUNS} runs\n`);
console.log("| system | jobs/s (median) | runs | vs graphile recommended |");
console.log("| --- | ---: | --- | ---: |");
for (const [name, r] of Object.entries(results.throughput))
  console.log(`| ${name} | ${r.median.toFixed(0)} | ${r.runs.map((v) => v.toFixed(0)).join(", ")} | ${(r.median / rec).toFixed(2)}x |`);
console.log(`\npickup latency, ${LATENCY_COUNT} single inserts 50 ms apart (ms; median of ${RUNS} runs)\n`);
console.log("| system | p50 from return | p99 from return | p50 from issue | p99 from issue |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const [name, r] of Object.entries(results.latency))
  console.log(`| ${name} | ${r.p50_return.toFixed(2)} | ${r.p99_return.toFixed(2)} | ${r.p50_issue.toFixed(2)} | ${r.p99_issue.toFixed(2)} |`);
console.log(JSON.stringify(results));
