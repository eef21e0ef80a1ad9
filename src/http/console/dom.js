// Small DOM helpers. Data is only ever set as text (never parsed as HTML), so nothing a scraped
// page contains can run here.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && k !== 'list' && k !== 'form') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el) { el.replaceChildren(); return el; }

// A link to a scraped URL, only for http(s) addresses; anything else is shown as text.
export function extLink(url, text) {
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) return text || url || '';
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, text || url);
}

export function when(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  return isNaN(d) ? String(ts) : d.toLocaleString();
}

export function age(seconds) {
  if (seconds == null) return '–';
  if (seconds < 1) return (seconds * 1000).toFixed(0) + ' ms';
  if (seconds < 120) return seconds.toFixed(1) + ' s';
  if (seconds < 7200) return (seconds / 60).toFixed(1) + ' min';
  return (seconds / 3600).toFixed(1) + ' h';
}

export function badge(text) {
  return text ? h('span', { class: 'badge badge-' + String(text).toLowerCase().replace(/[^a-z]+/g, '-') }, text) : '';
}

export function list(values) {
  if (!Array.isArray(values) || values.length === 0) return '';
  return h('ul', { class: 'cell-list' }, values.map((v) => h('li', {}, String(v))));
}

export function json(value) {
  return h('pre', { class: 'json' }, value == null ? '–' : JSON.stringify(value, null, 2));
}

// Repeats `fn` every `ms` until stopped; waits for each run to finish before scheduling the next.
export function every(ms, fn) {
  let timer = null, stopped = false;
  const tick = async () => {
    try { await fn(); } catch (e) { /* shown by fn's own status line */ }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}
