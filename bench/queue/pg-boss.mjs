// One pg-boss instance in a process of its own, so that the CPU time it spends can be read from
// /proc apart from the harness's. bench.mjs spawns it:
//
//   node pg-boss.mjs '<json>'   json: {"url": ..., "max": n, "listen": bool, "background": bool,
//                                      "work": {...work() options}}
//
// It starts pg-boss (which installs its schema), creates the queues `noop` and `noop_bg` (with
// `notify` when "listen" is set, so an insert wakes the workers through LISTEN/NOTIFY), registers
// a worker on `noop` (and on `noop_bg` when "background" is set: in pg-boss every work() serves one
// queue) and prints "ready". For every `noop` job whose data carries a number `i` it prints a line
// "start <i> <ms>" when the handler begins (ms on CLOCK_MONOTONIC, the clock the harness's
// process.hrtime reads too). Handlers resolve at once, so every batch completes in one statement.
// It stops when its stdin closes.
import { performance } from "node:perf_hooks";
import { PgBoss } from "pg-boss";

const { url, max, listen, background, work } = JSON.parse(process.argv[2]);

const hrMs = () => Number(process.hrtime.bigint()) / 1e6;

// pg-boss's own pool (sized by `max`): LISTEN needs the pool pg-boss owns, and stop({ close })
// ends every connection before the harness drops the run's database.
const boss = new PgBoss({ connectionString: url, max, useListenNotify: listen });
boss.on("error", (e) => process.stderr.write(`pg-boss: ${e.message}\n`));
// Without a listener for "warning" an unreachable LISTEN would pass unnoticed as slow polling.
boss.on("warning", (w) => process.stderr.write(`pg-boss warning: ${w.message}\n`));
await boss.start();

for (const name of ["noop", "noop_bg"]) await boss.createQueue(name, { notify: listen });
await boss.work("noop", work, async (jobs) => {
  const ms = hrMs();
  for (const job of jobs) if (typeof job.data?.i === "number") process.stdout.write(`start ${job.data.i} ${ms}\n`);
});
if (background) await boss.work("noop_bg", work, async () => {});
process.stdout.write(`ready ${performance.now().toFixed(0)}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await boss.stop({ graceful: true, close: true });
  process.exit(0);
}
process.stdin.on("end", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
