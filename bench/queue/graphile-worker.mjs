// One graphile-worker instance in a process of its own, so that the CPU time it spends can be
// read from /proc apart from the harness's. bench.mjs spawns it:
//
//   node graphile-worker.mjs '<json>'   json: {"url": ..., "pool": n, "options": {...run() options}}
//
// It prints "ready" once the runner is up (its schema installed), and, for every `noop` job whose
// payload carries a number `i`, a line "start <i> <ms>" when the task begins (ms on
// CLOCK_MONOTONIC, the clock the harness's process.hrtime reads too). `noop_bg` jobs (the
// background load of the latency workload) resolve silently. It stops when its stdin closes.
import { performance } from "node:perf_hooks";
import pg from "pg";
import { run, Logger } from "graphile-worker";

const { url, pool: poolSize, options } = JSON.parse(process.argv[2]);

const hrMs = () => Number(process.hrtime.bigint()) / 1e6;

// A pool of our own (sized as the configuration says), so that stopping closes every connection
// before the harness drops the run's database.
const pgPool = new pg.Pool({ connectionString: url, max: poolSize });
pgPool.on("error", () => {});
pgPool.on("connect", (client) => client.on("error", () => {}));

const runner = await run({
  ...options,
  pgPool,
  noHandleSignals: true,
  logger: new Logger(() => (level, message) => {
    if (level === "error") process.stderr.write(`graphile-worker: ${message}\n`);
  }),
  taskList: {
    noop: async (payload) => {
      if (typeof payload?.i === "number") process.stdout.write(`start ${payload.i} ${hrMs()}\n`);
    },
    noop_bg: async () => {},
  },
});
process.stdout.write(`ready ${performance.now().toFixed(0)}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await runner.stop();
  await pgPool.end();
  process.exit(0);
}
process.stdin.on("end", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
