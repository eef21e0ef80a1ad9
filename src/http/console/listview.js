// One list of the API: server-side filters, sorting and pagination (by cursor), row selection
// and the bulk status change its curation route allows. Refreshes itself while visible.
import { api, query, ApiError } from './client.js';
import { h, clear, every } from './dom.js';

export const CURATION = ['New', 'Selected', 'Maybe', 'Not a Fit', 'Archived'];
export const PROCESSING = ['Queued', 'Processing', 'Completed', 'Error'];

export class ListView {
  // cfg: { id, title, path, columns: [{key, label, sort, render}], filters: [{name, label,
  //        values | uuid}], curation: {path, label}, bulk: [{label, run(ids)}], rowLabel(row),
  //        open(row), fixed: {filter: value}, sort, order, refreshMs }
  constructor(cfg) {
    this.cfg = cfg;
    this.limit = 25;
    this.firstPage();
    this.sort = cfg.sort || '';
    this.order = cfg.order || '';
    this.filters = { ...(cfg.fixed || {}) }; // fixed: filters the user does not choose
    this.selected = new Set();
    this.items = [];
    this.shown = null;
    this.el = this.build();
  }

  build() {
    const c = this.cfg, id = c.id;
    this.filterInputs = {};
    const filters = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); this.reload(); } },
      c.filters.map((f) => {
        const inputId = `${id}-filter-${f.name}`;
        const input = f.values
          ? h('select', { id: inputId, name: f.name, onchange: () => this.setFilter(f.name, input.value) },
            h('option', { value: '' }, 'any'), f.values.map((v) => h('option', { value: v }, v)))
          : h('input', { id: inputId, name: f.name, size: 38, placeholder: 'UUID', spellcheck: false,
            onchange: () => this.setFilter(f.name, input.value.trim()) });
        this.filterInputs[f.name] = input;
        return h('div', { class: 'field' }, h('label', { for: inputId }, f.label), input);
      }),
      h('div', { class: 'field actions' },
        h('button', { type: 'submit', id: `${id}-refresh` }, 'Refresh'),
        h('label', { class: 'inline' },
          this.autoBox = h('input', { type: 'checkbox', id: `${id}-auto`, checked: true,
            onchange: () => (this.autoBox.checked ? this.start() : this.stopTimer()) }),
          ' Auto-refresh')));

    let bulk = null;
    if (c.curation || (c.bulk && c.bulk.length)) {
      this.countEl = h('span', { class: 'count', id: `${id}-selected-count` }, '0 selected');
      const parts = [this.countEl];
      if (c.curation) {
        this.bulkSelect = h('select', { id: `${id}-bulk-status` },
          ['Selected', 'New', 'Maybe', 'Not a Fit', 'Archived'].map((v) => h('option', { value: v }, v)));
        parts.push(h('label', { for: `${id}-bulk-status` }, c.curation.label),
          this.bulkSelect,
          h('button', { type: 'button', id: `${id}-bulk-apply`, onclick: () => this.applyCuration() },
            'Apply to selected'));
      }
      for (const b of c.bulk || [])
        parts.push(h('button', { type: 'button', id: `${id}-bulk-${b.id}`, onclick: () => this.runBulk(b) }, b.label));
      bulk = h('div', { class: 'bulk', role: 'group', 'aria-label': 'Selected rows' }, parts);
    }

    this.thead = h('thead');
    this.tbody = h('tbody');
    this.table = h('table', { id: `${id}-table` }, h('caption', { class: 'sr-only' }, c.title), this.thead, this.tbody);
    this.range = h('span', { class: 'range', id: `${id}-range` });
    this.prev = h('button', { type: 'button', id: `${id}-prev`, onclick: () => this.page(-1) }, '‹ Previous');
    this.next = h('button', { type: 'button', id: `${id}-next`, onclick: () => this.page(1) }, 'Next ›');
    const sizeId = `${id}-page-size`;
    const size = h('select', { id: sizeId, onchange: () => { this.limit = +size.value; this.firstPage(); this.reload(); } },
      [10, 25, 50, 100].map((n) => h('option', { value: n, selected: n === this.limit }, n)));
    this.status = h('p', { class: 'status', role: 'status', id: `${id}-status` });
    this.renderHead();
    return h('section', { class: 'list', id: `${id}-list`, 'aria-label': c.title },
      h('h3', {}, c.title), filters, bulk,
      h('div', { class: 'table-wrap' }, this.table),
      h('div', { class: 'pager' }, this.prev, this.range, this.next,
        h('label', { for: sizeId }, 'Rows per page'), size),
      this.status);
  }

  selectable() { return Boolean(this.cfg.curation || (this.cfg.bulk && this.cfg.bulk.length)); }

  renderHead() {
    const cells = [];
    if (this.selectable()) {
      this.allBox = h('input', { type: 'checkbox', id: `${this.cfg.id}-select-all`,
        'aria-label': 'Select all rows on this page', onchange: () => this.selectAll(this.allBox.checked) });
      cells.push(h('th', { class: 'sel' }, this.allBox));
    }
    for (const col of this.cfg.columns) {
      if (!col.sort) { cells.push(h('th', { scope: 'col' }, col.label)); continue; }
      const active = this.sort === col.sort || (!this.sort && col.sort === 'created_at');
      const order = this.order || (this.sort ? 'asc' : 'desc');
      cells.push(h('th', { scope: 'col', 'aria-sort': active ? (order === 'asc' ? 'ascending' : 'descending') : 'none' },
        h('button', { type: 'button', class: 'sort', id: `${this.cfg.id}-sort-${col.sort}`,
          onclick: () => this.sortBy(col.sort) }, col.label, active ? (order === 'asc' ? ' ▲' : ' ▼') : '')));
    }
    if (this.cfg.open) cells.push(h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Open')));
    clear(this.thead).append(h('tr', {}, cells));
  }

  sortBy(column) {
    const currentOrder = this.order || (this.sort ? 'asc' : 'desc');
    const current = this.sort || 'created_at';
    this.order = current === column ? (currentOrder === 'asc' ? 'desc' : 'asc') : (column === 'created_at' ? 'desc' : 'asc');
    this.sort = column;
    this.firstPage();
    this.renderHead();
    this.reload();
  }

  setFilter(name, value) {
    if (this.filterInputs[name] && this.filterInputs[name].value !== value) this.filterInputs[name].value = value;
    this.filters[name] = value;
    this.firstPage();
    this.selected.clear();
    this.reload();
  }

  // Pages follow the API's cursors, so rows added meanwhile neither repeat nor shift a page; the
  // cursors of the pages before are kept for the way back. `offset` only numbers the rows shown.
  firstPage() { this.cursor = null; this.back = []; this.offset = 0; }

  page(step) {
    if (step > 0 && this.nextCursor) {
      this.back.push({ cursor: this.cursor, offset: this.offset });
      this.cursor = this.nextCursor;
      this.offset += this.items.length;
    } else if (step < 0 && this.back.length) {
      ({ cursor: this.cursor, offset: this.offset } = this.back.pop());
    }
    this.reload();
  }

  reload() { this.shown = null; return this.load(); }

  async load() {
    const params = { limit: this.limit, cursor: this.cursor, sort: this.sort, order: this.order, ...this.filters };
    try {
      const data = await api('GET', this.cfg.path + query(params));
      this.items = data.items;
      this.hasMore = data.has_more;
      this.nextCursor = data.next_cursor || null;
      const text = JSON.stringify(data.items);
      if (text !== this.shown) { this.shown = text; this.renderRows(); }
      this.renderPager();
      this.table.dataset.query = query(params); // what the rows shown answer (tests wait on it)
      if (this.status.classList.contains('error')) this.say('');
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) this.say(e.message, true);
    }
  }

  renderRows() {
    // Focus survives a refresh: the focused control is found again by its id.
    const focused = document.activeElement && this.el.contains(document.activeElement) ? document.activeElement.id : null;
    clear(this.tbody);
    const ids = new Set(this.items.map((r) => r.id));
    for (const id of [...this.selected]) if (!ids.has(id)) this.selected.delete(id);
    if (this.items.length === 0) {
      const span = this.cfg.columns.length + (this.selectable() ? 1 : 0) + (this.cfg.open ? 1 : 0);
      this.tbody.append(h('tr', {}, h('td', { colSpan: span, class: 'empty' }, 'Nothing here yet.')));
    }
    for (const row of this.items) {
      const cells = [];
      if (this.selectable()) {
        const box = h('input', { type: 'checkbox', id: `${this.cfg.id}-sel-${row.id}`, checked: this.selected.has(row.id),
          'aria-label': 'Select ' + this.label(row),
          onchange: () => { box.checked ? this.selected.add(row.id) : this.selected.delete(row.id); this.renderCount(); } });
        cells.push(h('td', { class: 'sel' }, box));
      }
      for (const col of this.cfg.columns) {
        const v = col.render ? col.render(row) : row[col.key];
        cells.push(h('td', { 'data-col': col.key }, v == null ? '' : v));
      }
      if (this.cfg.open)
        cells.push(h('td', {}, h('button', { type: 'button', class: 'open', id: `${this.cfg.id}-open-${row.id}`,
          'aria-label': 'Open ' + this.label(row), onclick: () => this.cfg.open(row) }, 'Open')));
      this.tbody.append(h('tr', { 'data-id': row.id }, cells));
    }
    this.renderCount();
    if (focused) { const again = document.getElementById(focused); if (again) again.focus(); }
  }

  label(row) { return this.cfg.rowLabel ? this.cfg.rowLabel(row) : row.id; }

  renderPager() {
    const n = this.items.length;
    this.range.textContent = n ? `Rows ${this.offset + 1}–${this.offset + n}` : 'No rows';
    this.prev.disabled = this.back.length === 0;
    this.next.disabled = !this.hasMore;
  }

  renderCount() {
    if (!this.countEl) return;
    this.countEl.textContent = `${this.selected.size} selected`;
    if (this.allBox) this.allBox.checked = this.items.length > 0 && this.items.every((r) => this.selected.has(r.id));
  }

  selectAll(on) {
    for (const r of this.items) on ? this.selected.add(r.id) : this.selected.delete(r.id);
    for (const box of this.tbody.querySelectorAll('input[type=checkbox]')) box.checked = on;
    this.renderCount();
  }

  async applyCuration() {
    const ids = [...this.selected];
    if (!ids.length) return this.say('Select rows first.', true);
    const status = this.bulkSelect.value;
    try {
      const r = await api('PUT', this.cfg.curation.path, { ids, status });
      this.say(`${r.updated} set to ${r.status}` + (r.queued ? `; ${r.queued} queued for ${r.queue}` : '') + '.');
      this.selected.clear();
      await this.reload();
    } catch (e) {
      if (e.status !== 401) this.say('Not changed: ' + e.message, true);
    }
  }

  async runBulk(b) {
    const ids = [...this.selected];
    if (!ids.length) return this.say('Select rows first.', true);
    try {
      this.say(await b.run(ids, this.items.filter((r) => this.selected.has(r.id))));
      this.selected.clear();
      await this.reload();
    } catch (e) {
      if (e.status !== 401) this.say(e.message, true);
    }
  }

  say(text, error = false) {
    this.status.textContent = text;
    this.status.classList.toggle('error', error);
  }

  start() {
    this.stopTimer();
    this.stop = every(this.cfg.refreshMs || 2000, () => (this.autoBox.checked ? this.load() : null));
  }

  stopTimer() { if (this.stop) this.stop(); this.stop = null; }
}
