// The operator's overview: every queue's counts, oldest waiting age and state, and finishes per
// minute over the last hour, refreshed every few seconds.
import { api, ApiError, token } from './client.js';
import { h, clear, age, badge, every } from './dom.js';

const QUEUED = ['Queued'], RUNNING = ['InProgress', 'Processing'];
const DONE = ['Completed'], FAILED = ['Error'];
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c);
  return el;
}

function sum(counts, names) { return names.reduce((n, k) => n + (counts[k] || 0), 0); }

export class Overview {
  constructor() {
    this.id = 'overview';
    this.title = 'Overview';
    this.actions = null; // which queue actions the API offers, probed once
    this.tbody = h('tbody');
    this.status = h('p', { class: 'status', role: 'status', id: 'overview-status' });
    this.chartQueue = h('select', { id: 'chart-queue', onchange: () => this.drawChart() }, h('option', { value: '' }, 'all queues'));
    this.chart = h('div', { class: 'chart', id: 'throughput-chart' });
    this.summary = h('p', { id: 'chart-summary' });
    this.updated = h('span', { class: 'muted', id: 'overview-updated' });
    this.el = h('section', { class: 'view', id: 'view-overview', 'aria-labelledby': 'title-overview', hidden: true },
      h('h2', { id: 'title-overview' }, 'Overview'),
      h('p', { class: 'intro' }, 'Every queue of the pipeline, refreshed every 3 seconds. ', this.updated),
      h('div', { class: 'table-wrap' }, h('table', { id: 'queues-table' },
        h('caption', { class: 'sr-only' }, 'Queues'),
        h('thead', {}, h('tr', {}, ['Queue', 'State', 'Waiting', 'Running', 'Completed', 'Failed', 'Other',
          'Oldest waiting', 'Workers', 'Pickup latency (mean / p95 ≤)', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        this.tbody)),
      this.status,
      h('h3', {}, 'Completed and failed per minute, last hour'),
      h('div', { class: 'field inline' }, h('label', { for: 'chart-queue' }, 'Queue'), this.chartQueue),
      this.chart, this.summary);
  }

  show() { this.el.hidden = false; this.stop = every(3000, () => this.refresh()); }
  hide() { this.el.hidden = true; if (this.stop) this.stop(); }

  async probeActions(queue) {
    // A route the API does not have answers 404; one it has for POST answers 405 to this GET.
    // Nothing is changed by asking.
    this.actions = {};
    // Queue controls need the operator role: without it they are not shown at all.
    if (!token.isOperator()) return;
    for (const action of ['pause', 'resume', 'retry-errors']) {
      try { await api('GET', `/api/v3/queues/${queue}/${action}`); this.actions[action] = true; } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        this.actions[action] = e.status !== 404;
      }
    }
  }

  async refresh() {
    try {
      const [queues, history] = await Promise.all([api('GET', '/api/v3/queues'), api('GET', '/api/v3/queues/history')]);
      if (this.actions === null && queues.queues.length) await this.probeActions(queues.queues[0].name);
      this.renderQueues(queues.queues);
      this.history = history;
      if (this.chartQueue.options.length === 1)
        for (const q of history.queues) this.chartQueue.append(h('option', { value: q.name }, q.name));
      this.drawChart();
      this.updated.textContent = 'Updated ' + new Date().toLocaleTimeString() + '.';
      if (this.status.classList.contains('error')) { // a refresh clears its own failures only
        this.status.textContent = '';
        this.status.classList.remove('error');
      }
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) {
        this.status.textContent = 'Could not refresh: ' + e.message;
        this.status.classList.add('error');
      }
    }
  }

  renderQueues(queues) {
    const focused = document.activeElement && this.tbody.contains(document.activeElement) ? document.activeElement.id : null;
    clear(this.tbody);
    for (const q of queues) {
      const c = q.counts || {};
      const known = new Set([...QUEUED, ...RUNNING, ...DONE, ...FAILED]);
      const other = Object.entries(c).filter(([k]) => !known.has(k)).map(([k, n]) => `${k} ${n}`).join(', ');
      const lat = q.pickup_latency_seconds;
      const actions = [];
      const button = (action, label) => h('button', { type: 'button', id: `queue-${q.name}-${action}`,
        'aria-label': `${label} ${q.name}`, onclick: () => this.act(q.name, action, label) }, label);
      if (this.actions && this.actions.pause && q.state !== 'paused') actions.push(button('pause', 'Pause'));
      if (this.actions && this.actions.resume && q.state === 'paused') actions.push(button('resume', 'Resume'));
      if (this.actions && this.actions['retry-errors'] && sum(c, FAILED) > 0) actions.push(button('retry-errors', 'Retry all errors'));
      this.tbody.append(h('tr', { 'data-queue': q.name },
        h('th', { scope: 'row' }, q.name),
        h('td', { 'data-col': 'state' }, badge(q.state)),
        h('td', { class: 'num', 'data-col': 'waiting' }, sum(c, QUEUED)),
        h('td', { class: 'num', 'data-col': 'running' }, sum(c, RUNNING)),
        h('td', { class: 'num', 'data-col': 'completed' }, sum(c, DONE)),
        h('td', { class: 'num', 'data-col': 'failed' }, sum(c, FAILED)),
        h('td', { 'data-col': 'other' }, other),
        h('td', { 'data-col': 'oldest' }, age(q.oldest_queued_age_seconds)),
        h('td', { class: 'num' }, q.concurrency != null ? q.concurrency : '–'),
        h('td', { 'data-col': 'latency' }, lat && lat.count ? `${age(lat.mean)} / ${lat.p95_at_most != null ? age(lat.p95_at_most) : '> 60 s'}` : '–'),
        h('td', {}, actions)));
    }
    if (focused) { const again = document.getElementById(focused); if (again) again.focus(); }
  }

  async act(queue, action, label) {
    try {
      const r = await api('POST', `/api/v3/queues/${queue}/${action}`);
      this.status.textContent = action === 'retry-errors'
        ? `${queue}: ${r.requeued} row(s) in error queued again${r.more ? ' (more remain: press again)' : ''}.`
        : `${queue} ${r.paused ? 'paused on every node' : 'resumed'}.`;
      this.status.classList.remove('error');
      this.refresh();
    } catch (e) {
      if (e.status !== 401) { this.status.textContent = `${label} ${queue}: ${e.message}`; this.status.classList.add('error'); }
    }
  }

  drawChart() {
    const hst = this.history;
    if (!hst) return;
    const pick = this.chartQueue.value;
    const n = hst.minutes, done = new Array(n).fill(0), failed = new Array(n).fill(0);
    for (const q of hst.queues) {
      if (pick && q.name !== pick) continue;
      for (let i = 0; i < n; i++) { done[i] += q.completed[i]; failed[i] += q.failed[i]; }
    }
    const max = Math.max(1, ...done.map((d, i) => d + failed[i]));
    const W = 720, H = 160, pad = 28, bw = (W - pad) / n;
    const y = (v) => H - 18 - (v / max) * (H - 30);
    const bars = [];
    for (let i = 0; i < n; i++) {
      const x = pad + i * bw + 1, t = new Date((hst.start + i * hst.minute_seconds) * 1000);
      const label = `${t.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}: ${done[i]} completed, ${failed[i]} failed`;
      bars.push(svg('g', {}, svg('title', {}, label),
        svg('rect', { class: 'bar-done', x, width: bw - 2, y: y(done[i]), height: H - 18 - y(done[i]) }),
        svg('rect', { class: 'bar-failed', x, width: bw - 2, y: y(done[i] + failed[i]), height: y(done[i]) - y(done[i] + failed[i]) })));
    }
    const text = (x, yy, s, anchor = 'start') => svg('text', { x, y: yy, 'text-anchor': anchor, class: 'axis' }, s);
    const totalDone = done.reduce((a, b) => a + b, 0), totalFailed = failed.reduce((a, b) => a + b, 0);
    clear(this.chart).append(svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-summary' },
      svg('line', { x1: pad, x2: W, y1: H - 18, y2: H - 18, class: 'axis-line' }),
      text(pad - 4, 12, String(max), 'end'), text(pad - 4, H - 18, '0', 'end'),
      text(pad, H - 4, '60 min ago'), text(W, H - 4, 'now', 'end'), ...bars));
    this.summary.textContent = `Last hour${pick ? ' (' + pick + ')' : ''}: ${totalDone} completed, ${totalFailed} failed (bars: completed below, failed above).`;
  }
}
