// What the Node peers of the server benchmark share: the address pattern bench/scrape's crawler
// uses, and the process's CPU time as bench.py counts it.
'use strict';
const fs = require('node:fs');

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const TICK_S = 0.01; // USER_HZ: /proc's clock ticks

// CPU seconds of this process (all threads) and of the children it has reaped.
function cpuSeconds() {
  const u = process.cpuUsage();
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (u.user + u.system) / 1e6 + (Number(f[13]) + Number(f[14])) * TICK_S;
}

module.exports = { EMAIL, cpuSeconds };
