// The workflow tabs, in pipeline order. Each is a form where the workflow starts with one, and
// lists of what it produced.
import { api, ApiError } from './client.js';
import { h, clear, badge, list, extLink, when, json, every } from './dom.js';
import { ListView, CURATION, PROCESSING } from './listview.js';

const TASK = ['Queued', 'InProgress', 'Completed', 'Error', 'ManualReview', 'Cancelled', 'Paused'];
const JOB_TYPES = ['places_search', 'sitemap', 'email_scan', 'page_scrape'];

// A view: a titled section whose lists refresh only while it is shown.
class View {
  constructor(id, title, intro) {
    this.id = id;
    this.title = title;
    this.lists = [];
    this.timers = [];
    this.el = h('section', { class: 'view', id: `view-${id}`, 'aria-labelledby': `title-${id}`, hidden: true },
      h('h2', { id: `title-${id}` }, title), intro ? h('p', { class: 'intro' }, intro) : null);
  }
  add(...nodes) { for (const n of nodes) this.el.append(n instanceof ListView ? n.el : n); }
  list(cfg) { const l = new ListView(cfg); this.lists.push(l); return l; }
  show() { this.el.hidden = false; for (const l of this.lists) { l.reload(); l.start(); } this.onShow(); }
  hide() { this.el.hidden = true; for (const l of this.lists) l.stopTimer(); this.onHide(); }
  onShow() {}
  onHide() {}
}

function field(id, label, attrs = {}) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, name: id, ...attrs }));
}

function area(id, label, attrs = {}) {
  return h('div', { class: 'field' }, h('label', { for: id }, label),
    h('textarea', { id, name: id, rows: 3, cols: 40, spellcheck: false, ...attrs }));
}

// Names or URLs typed one per line (or separated by commas or spaces).
const entries = (text) => text.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean);

function message(id) { return h('p', { class: 'status', role: 'status', id }); }

function say(el, text, error = false) { el.textContent = text; el.classList.toggle('error', error); }

const jobDone = (job) => ['Completed', 'Error', 'Cancelled'].includes(job.status);

// Follows one job (or batch) until `done` says it finished, calling `render` on each poll.
function follow(view, path, render, ms = 1000, done = jobDone) {
  if (view.stopFollow) view.stopFollow();
  let stop = null;
  stop = every(ms, async () => {
    try {
      const answer = await api('GET', path);
      render(answer);
      if (done(answer) && stop) stop();
    } catch (e) {
      if (stop) stop();
    }
  });
  view.stopFollow = stop;
}

// A batch (sitemap or page-scraper) followed by its counts until every job finished.
function followBatch(view, batchId, out, onDone) {
  follow(view, `/api/v3/batches/${batchId}`, (b) => {
    const counts = Object.entries(b.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
    say(out, `Batch ${batchId}: ${b.finished} of ${b.total} finished — ${counts}`, b.done && b.counts.Error > 0);
    if (b.done && onDone) onDone(b);
  }, 1000, (b) => b.done);
}

// One job's outcome in a line: its status, then what its result or error says.
function jobLine(job, summary) {
  const id = job.job_id || job.id;
  return `Job ${id}: ${job.status}` + (job.result_data && summary ? ` — ${summary(job.result_data)}` : '') + (job.error ? ` — ${job.error}` : '');
}

// A form of one submission route: `submit(values)` posts and returns what to say and follow.
function submitForm(id, out, fields, button, submit) {
  const form = h('form', { class: 'inline-form', id, onsubmit: async (e) => {
    e.preventDefault();
    try { await submit(form); } catch (err) { if (err.status !== 401) say(out, 'Not started: ' + err.message, true); }
  } }, ...fields, h('div', { class: 'field actions' }, button));
  return form;
}

const socialLinks = (s) =>
  s && typeof s === 'object' ? h('ul', { class: 'cell-list' }, Object.entries(s).map(([k, v]) => h('li', {}, extLink(v, k)))) : '';

export function placesView() {
  const v = new View('places', 'Places search', 'Search the Places API for a kind of business in a place; pick rows of the results and select them for a deep scan (Places details → local businesses).');
  const out = message('places-search-status');
  const staging = v.list({
    id: 'places', title: 'Search results (places_staging)', path: '/api/v3/places/staging',
    filters: [
      { name: 'search_job_id', label: 'Search job' },
      { name: 'status', label: 'Curation', values: CURATION },
      { name: 'deep_scan_status', label: 'Deep scan', values: PROCESSING },
    ],
    columns: [
      { key: 'name', label: 'Name', sort: 'name' },
      { key: 'place_id', label: 'Place ID' },
      { key: 'address', label: 'Address' },
      { key: 'rating', label: 'Rating', sort: 'rating' },
      { key: 'user_ratings_total', label: 'Ratings', sort: 'user_ratings_total' },
      { key: 'status', label: 'Curation', sort: 'status', render: (r) => badge(r.status) },
      { key: 'deep_scan_status', label: 'Deep scan', sort: 'deep_scan_status', render: (r) => [badge(r.deep_scan_status), r.deep_scan_error ? h('div', { class: 'error' }, r.deep_scan_error) : null] },
      { key: 'created_at', label: 'Found', sort: 'created_at', render: (r) => when(r.created_at) },
    ],
    curation: { path: '/api/v3/places/staging/status', label: 'Set curation of selected to' },
    rowLabel: (r) => r.name || r.place_id,
  });
  const form = h('form', { class: 'inline-form', id: 'places-search-form', onsubmit: async (e) => {
    e.preventDefault();
    const business_type = form.querySelector('#places-business-type').value.trim();
    const location = form.querySelector('#places-location').value.trim();
    try {
      const r = await api('POST', '/api/v3/places/search', { business_type, location });
      say(out, `Search ${r.job_id} queued.`);
      staging.setFilter('search_job_id', r.job_id);
      follow(v, `/api/v3/jobs/${r.job_id}`, (job) => {
        const found = job.result_data && job.result_data.places_found;
        say(out, `Search ${job.job_id || job.id}: ${job.status}` + (found != null ? ` — ${found} places` : '') + (job.error ? ` — ${job.error}` : ''), job.status === 'Error');
      });
    } catch (err) { if (err.status !== 401) say(out, 'Not started: ' + err.message, true); }
  } },
  field('places-business-type', 'Business type', { required: true, maxLength: 200, placeholder: 'bakery' }),
  field('places-location', 'Location', { required: true, maxLength: 200, placeholder: 'Springfield' }),
  h('div', { class: 'field actions' }, h('button', { type: 'submit', id: 'places-search-submit' }, 'Search')));
  v.add(form, out, staging);
  v.onHide = () => v.stopFollow && v.stopFollow();
  return v;
}

export function businessesView() {
  const v = new View('businesses', 'Local businesses', 'Businesses from deep scans. Selecting one extracts the registrable domain of its website (→ domains, whose homepage metadata is then fetched).');
  v.add(v.list({
    id: 'businesses', title: 'Local businesses', path: '/api/v3/local-businesses',
    filters: [
      { name: 'status', label: 'Curation', values: CURATION },
      { name: 'domain_extraction_status', label: 'Domain extraction', values: PROCESSING },
      { name: 'domain_id', label: 'Domain' },
    ],
    columns: [
      { key: 'business_name', label: 'Business', sort: 'business_name' },
      { key: 'full_address', label: 'Address' },
      { key: 'phone', label: 'Phone' },
      { key: 'website_url', label: 'Website', render: (r) => extLink(r.website_url) },
      { key: 'rating', label: 'Rating', sort: 'rating' },
      { key: 'status', label: 'Curation', sort: 'status', render: (r) => badge(r.status) },
      { key: 'domain_extraction_status', label: 'Domain extraction', sort: 'domain_extraction_status', render: (r) => [badge(r.domain_extraction_status), r.domain_extraction_error ? h('div', { class: 'error' }, r.domain_extraction_error) : null] },
    ],
    curation: { path: '/api/v3/local-businesses/status', label: 'Set curation of selected to' },
    rowLabel: (r) => r.business_name || r.place_id,
  }));
  return v;
}

export function domainsView(goToScan) {
  const v = new View('domains', 'Domains', 'Homepage metadata of each domain. Selecting a domain for sitemap curation discovers its sitemaps (→ sitemap files).');
  const out = message('domains-add-status');
  // Adding queues each new domain's homepage metadata; "discover sitemaps" also starts one
  // sitemap discovery job per domain, as a batch followed by its counts.
  const names = () => entries(v.el.querySelector('#domains-add-names').value);
  const add = submitForm('domains-add-form', out, [area('domains-add-names', 'Domains (one per line)', { required: true, placeholder: 'example.com' })],
    [h('button', { type: 'submit', id: 'domains-add-submit' }, 'Add'),
      h('button', { type: 'button', id: 'domains-discover-submit', onclick: async () => {
        try {
          const r = await api('POST', '/api/v3/sitemap/batch/create', { domains: names() });
          say(out, `Batch ${r.batch_id}: ${r.jobs.length} sitemap discovery job(s) queued.`);
          followBatch(v, r.batch_id, out, () => domains.load());
        } catch (err) { if (err.status !== 401) say(out, 'Not started: ' + err.message, true); }
      } }, 'Add and discover sitemaps')],
    async () => {
      const r = await api('POST', '/api/v3/domains', { domains: names() });
      const fresh = r.domains.filter((d) => d.created).length;
      say(out, `${r.domains.length} domains (${fresh} new; their homepage metadata is queued).`);
      domains.load();
    });
  const domains = v.list({
    id: 'domains', title: 'Domains', path: '/api/v3/domains',
    filters: [
      { name: 'status', label: 'Metadata', values: PROCESSING },
      { name: 'sitemap_curation_status', label: 'Sitemap curation', values: CURATION },
      { name: 'sitemap_analysis_status', label: 'Sitemap analysis', values: PROCESSING },
    ],
    columns: [
      { key: 'domain', label: 'Domain', sort: 'domain' },
      { key: 'status', label: 'Metadata', sort: 'status', render: (r) => [badge(r.status), r.metadata_last_error ? h('div', { class: 'error' }, r.metadata_last_error) : null] },
      { key: 'title', label: 'Title', sort: 'title', render: (r) => [r.title || '', r.description ? h('div', { class: 'muted' }, r.description) : null] },
      { key: 'emails', label: 'Emails', render: (r) => list(r.emails) },
      { key: 'phones', label: 'Phones', render: (r) => list(r.phones) },
      { key: 'social_links', label: 'Social', render: (r) => socialLinks(r.social_links) },
      { key: 'tech_stack', label: 'Tech', render: (r) => list(r.tech_stack) },
      { key: 'sitemap_curation_status', label: 'Sitemap curation', sort: 'sitemap_curation_status', render: (r) => badge(r.sitemap_curation_status) },
      { key: 'sitemap_analysis_status', label: 'Sitemap analysis', sort: 'sitemap_analysis_status', render: (r) => [badge(r.sitemap_analysis_status), r.sitemap_analysis_error ? h('div', { class: 'error' }, r.sitemap_analysis_error) : null] },
    ],
    curation: { path: '/api/v3/domains/sitemap-curation/status', label: 'Set sitemap curation of selected to' },
    bulk: [{ id: 'scan', label: 'Scan selected for emails', run: async (ids, rows) => {
      const jobs = [];
      for (const id of ids) jobs.push((await api('POST', '/api/v3/email-scan/scan/website', { domain_id: id })).job_id);
      if (jobs.length === 1) goToScan(jobs[0], rows[0] && rows[0].domain);
      return `${jobs.length} email scan(s) queued.`;
    } }],
    rowLabel: (r) => r.domain,
  });
  v.add(add, out, domains);
  v.onHide = () => v.stopFollow && v.stopFollow();
  return v;
}

export function sitemapsView() {
  const v = new View('sitemaps', 'Sitemap files', 'Sitemaps found for the selected domains. Selecting a urlset imports its URLs (→ pages); an index is imported through its child files.');
  const out = message('sitemap-single-status');
  const single = submitForm('sitemap-single-form', out,
    [field('sitemap-single-url', 'Site or sitemap URL', { required: true, type: 'url', placeholder: 'https://example.com/', spellcheck: false })],
    h('button', { type: 'submit', id: 'sitemap-single-submit' }, 'Scan'),
    async (form) => {
      const r = await api('POST', '/api/v3/modernized/sitemap/scan/single', { url: form.querySelector('#sitemap-single-url').value.trim() });
      say(out, `Job ${r.job_id} queued.`);
      sitemaps.setFilter('domain_id', r.domain_id);
      follow(v, `/api/v3/jobs/${r.job_id}`, (job) => {
        say(out, jobLine(job, (res) => res.sitemaps_found != null ? `${res.sitemaps_found} sitemap file(s)` : ''), job.status === 'Error');
        if (jobDone(job)) sitemaps.load();
      });
    });
  const sitemaps = v.list({
    id: 'sitemaps', title: 'Sitemap files', path: '/api/v3/sitemap-files',
    filters: [
      { name: 'deep_scrape_curation_status', label: 'Import curation', values: CURATION },
      { name: 'sitemap_import_status', label: 'Import', values: PROCESSING },
      { name: 'domain_id', label: 'Domain' },
    ],
    columns: [
      { key: 'url', label: 'URL', sort: 'url', render: (r) => extLink(r.url) },
      { key: 'sitemap_type', label: 'Type', sort: 'sitemap_type' },
      { key: 'discovery_method', label: 'Found by', sort: 'discovery_method' },
      { key: 'url_count', label: 'URLs', sort: 'url_count' },
      { key: 'deep_scrape_curation_status', label: 'Import curation', sort: 'deep_scrape_curation_status', render: (r) => badge(r.deep_scrape_curation_status) },
      { key: 'sitemap_import_status', label: 'Import', sort: 'sitemap_import_status', render: (r) => [badge(r.sitemap_import_status), r.sitemap_import_error ? h('div', { class: 'error' }, r.sitemap_import_error) : null] },
    ],
    curation: { path: '/api/v3/sitemap-files/status', label: 'Set import curation of selected to' },
    rowLabel: (r) => r.url,
  });
  v.add(single, out, sitemaps);
  v.onHide = () => v.stopFollow && v.stopFollow();
  return v;
}

export function pagesView() {
  const v = new View('pages', 'Pages', 'URLs imported from sitemaps; any page can also be scraped on its own (title, description, emails, phones, social links, tech), one or a batch at a time.');
  const out = message('page-scrape-status');
  const summary = (res) => [res.title, res.emails && `${res.emails.length} email(s)`, res.phones && `${res.phones.length} phone(s)`].filter(Boolean).join(', ');
  const one = submitForm('page-scrape-form', out,
    [field('page-scrape-url', 'Page URL', { required: true, type: 'url', placeholder: 'https://example.com/contact', spellcheck: false })],
    h('button', { type: 'submit', id: 'page-scrape-submit' }, 'Scrape'),
    async (form) => {
      const r = await api('POST', '/api/v3/modernized/page/scrape/single', { url: form.querySelector('#page-scrape-url').value.trim() });
      say(out, `Job ${r.job_id} queued.`);
      follow(v, `/api/v3/jobs/${r.job_id}`, (job) => say(out, jobLine(job, summary), job.status === 'Error'));
    });
  const batch = submitForm('page-batch-form', out,
    [area('page-batch-urls', 'Page URLs (one per line)', { required: true, placeholder: 'https://example.com/about' })],
    h('button', { type: 'submit', id: 'page-batch-submit' }, 'Scrape all'),
    async (form) => {
      const r = await api('POST', '/api/v3/batch/page-scraper', { urls: entries(form.querySelector('#page-batch-urls').value) });
      say(out, `Batch ${r.batch_id}: ${r.count} page scrape(s) queued.`);
      followBatch(v, r.batch_id, out);
    });
  v.add(one, batch, out);
  v.add(v.list({
    id: 'pages', title: 'Pages', path: '/api/v3/pages',
    filters: [{ name: 'domain_id', label: 'Domain' }, { name: 'sitemap_file_id', label: 'Sitemap file' }],
    columns: [
      { key: 'url', label: 'URL', sort: 'url', render: (r) => extLink(r.url) },
      { key: 'lastmod', label: 'Last modified', sort: 'lastmod' },
      { key: 'changefreq', label: 'Change frequency' },
      { key: 'priority', label: 'Priority', sort: 'priority' },
      { key: 'created_at', label: 'Imported', sort: 'created_at', render: (r) => when(r.created_at) },
    ],
  }));
  v.onHide = () => v.stopFollow && v.stopFollow();
  return v;
}

export function scansView() {
  const v = new View('scans', 'Email scans', 'Crawls a domain’s homepage and its contact-like pages (robots.txt obeyed) and records each email with the page it was found on.');
  const out = message('scan-status');
  const progress = h('progress', { id: 'scan-progress', max: 1, value: 0, 'aria-label': 'Scan progress' });
  const current = h('div', { class: 'scan-current', id: 'scan-current', hidden: true },
    h('h3', {}, 'Current scan'), progress, out);
  const contacts = v.list({
    id: 'contacts', title: 'Contacts found', path: '/api/v3/contacts',
    filters: [{ name: 'job_id', label: 'Scan job' }, { name: 'domain_id', label: 'Domain' }],
    columns: [
      { key: 'email', label: 'Email', sort: 'email' },
      { key: 'source_url', label: 'Found on page', sort: 'source_url', render: (r) => extLink(r.source_url) },
      { key: 'created_at', label: 'Found', sort: 'created_at', render: (r) => when(r.created_at) },
    ],
  });
  v.watch = (jobId, name) => {
    current.hidden = false;
    contacts.setFilter('job_id', jobId);
    follow(v, `/api/v3/email-scan/scan/status/${jobId}`, (s) => {
      progress.value = s.progress || 0;
      const pages = s.result_data && s.result_data.pages_fetched;
      say(out, `${name ? name + ': ' : ''}${s.status}, ${Math.round((s.progress || 0) * 100)}%` +
        (pages != null ? `, ${pages} pages fetched` : '') + (s.emails && s.emails.length ? `, ${s.emails.length} emails` : '') +
        (s.error ? ` — ${s.error}` : ''), s.status === 'Error');
      contacts.load();
    });
  };
  const form = h('form', { class: 'inline-form', id: 'scan-form', onsubmit: async (e) => {
    e.preventDefault();
    const name = form.querySelector('#scan-domain').value.trim();
    try {
      // The scan takes a domain id; a new domain is added first (its metadata is then fetched).
      const d = (await api('POST', '/api/v3/domains', { domains: [name] })).domains[0];
      const r = await api('POST', '/api/v3/email-scan/scan/website', { domain_id: d.id });
      say(out, r.existing ? `A scan of ${d.domain} is already running.` : `Scan of ${d.domain} queued.`);
      v.watch(r.job_id, d.domain);
    } catch (err) { if (err.status !== 401) { current.hidden = false; say(out, 'Not started: ' + err.message, true); } }
  } },
  field('scan-domain', 'Domain', { required: true, placeholder: 'example.com', spellcheck: false }),
  h('div', { class: 'field actions' }, h('button', { type: 'submit', id: 'scan-submit' }, 'Scan')));
  const scans = v.list({
    id: 'scans', title: 'Email scan jobs', path: '/api/v3/jobs', fixed: { type: 'email_scan' },
    filters: [{ name: 'status', label: 'Status', values: TASK }, { name: 'domain_id', label: 'Domain' }],
    columns: [
      { key: 'domain', label: 'Domain', render: (r) => (r.params && r.params.domain) || r.domain_id },
      { key: 'status', label: 'Status', sort: 'status', render: (r) => badge(r.status) },
      { key: 'progress', label: 'Progress', render: (r) => Math.round((r.progress || 0) * 100) + '%' },
      { key: 'error', label: 'Error', render: (r) => (r.error ? h('span', { class: 'error' }, r.error) : '') },
      { key: 'created_at', label: 'Started', sort: 'created_at', render: (r) => when(r.created_at) },
    ],
    open: (r) => v.watch(r.id, r.params && r.params.domain),
    rowLabel: (r) => 'scan of ' + ((r.params && r.params.domain) || r.id),
  });
  v.add(form, current, contacts, scans);
  v.onHide = () => v.stopFollow && v.stopFollow();
  return v;
}

export function jobsView() {
  const v = new View('jobs', 'Jobs', 'Every job: searches, sitemap discovery, email scans, page scrapes. Open one for its parameters, result and error; retry failed or cancelled jobs, cancel waiting or running ones.');
  const detail = h('section', { class: 'job-detail', id: 'job-detail', hidden: true, 'aria-labelledby': 'job-detail-title' });
  const out = message('job-action-status');
  let shownId = null;
  const render = (job) => {
    const retry = h('button', { type: 'button', id: 'job-retry', disabled: !['Error', 'Cancelled'].includes(job.status), onclick: () => act('retry') }, 'Retry');
    const cancel = h('button', { type: 'button', id: 'job-cancel', disabled: !['Queued', 'Paused', 'InProgress'].includes(job.status), onclick: () => act('cancel') }, 'Cancel');
    const row = (k, val, id) => [h('dt', {}, k), h('dd', id ? { id } : {}, val == null || val === '' ? '–' : val)];
    clear(detail).append(
      h('h3', { id: 'job-detail-title' }, `Job ${job.id}`),
      h('dl', { class: 'facts' },
        row('Type', job.job_type), row('Status', badge(job.status), 'job-status'),
        row('Attempts', String(job.attempts), 'job-attempts'),
        row('Progress', Math.round((job.progress || 0) * 100) + '%'),
        row('Error', job.error ? h('span', { class: 'error' }, job.error) : null, 'job-error'),
        row('Last error', job.last_error),
        row('Created', when(job.created_at)), row('Updated', when(job.updated_at)),
        row('Finished', job.finished_at, 'job-finished')),
      h('div', { class: 'actions' }, retry, cancel, h('button', { type: 'button', id: 'job-close', onclick: () => { detail.hidden = true; shownId = null; if (v.stopFollow) v.stopFollow(); } }, 'Close')),
      out,
      h('h4', {}, 'Parameters'), json(job.params),
      h('h4', {}, 'Result'), json(job.result_data));
    detail.hidden = false;
  };
  const open = (id) => {
    shownId = id;
    say(out, '');
    follow(v, `/api/v3/jobs/${id}`, (job) => { if (job.id === shownId) render(job); }, 1500);
  };
  const act = async (what) => {
    const id = shownId;
    try {
      const r = await api('POST', `/api/v3/jobs/${id}/${what}`);
      open(id);
      say(out, what === 'retry' ? 'Queued again with fresh attempts.' : r.cancel_requested ? 'Cancellation requested; the worker stops at its next check.' : 'Cancelled.');
      jobs.load();
    } catch (e) { if (e.status !== 401) say(out, `Not done: ${e.message}`, true); }
  };
  const jobs = v.list({
    id: 'jobs', title: 'Jobs', path: '/api/v3/jobs',
    filters: [
      { name: 'type', label: 'Type', values: JOB_TYPES },
      { name: 'status', label: 'Status', values: TASK },
      { name: 'domain_id', label: 'Domain' },
    ],
    columns: [
      { key: 'job_type', label: 'Type', sort: 'job_type' },
      { key: 'status', label: 'Status', sort: 'status', render: (r) => badge(r.status) },
      { key: 'params', label: 'Parameters', render: (r) => (r.params ? Object.values(r.params).join(' · ') : '') },
      { key: 'attempts', label: 'Attempts', sort: 'attempts' },
      { key: 'error', label: 'Error', render: (r) => (r.error ? h('span', { class: 'error' }, r.error) : '') },
      { key: 'created_at', label: 'Created', sort: 'created_at', render: (r) => when(r.created_at) },
      { key: 'finished_at', label: 'Finished', sort: 'finished_at', render: (r) => when(r.finished_at) },
    ],
    bulk: [
      { id: 'retry', label: 'Retry selected', run: (ids) => bulkJobs(ids, 'retry') },
      { id: 'cancel', label: 'Cancel selected', run: (ids) => bulkJobs(ids, 'cancel') },
    ],
    open: (r) => open(r.id),
    rowLabel: (r) => `${r.job_type} job ${r.id}`,
  });
  const bulkJobs = async (ids, what) => {
    let done = 0, refused = 0;
    for (const id of ids) {
      try { await api('POST', `/api/v3/jobs/${id}/${what}`); done++; } catch (e) {
        if (e.status === 401) throw e;
        refused++;
      }
    }
    return `${what === 'retry' ? 'Retried' : 'Cancelled'} ${done}` + (refused ? `; ${refused} did not apply (409: wrong status)` : '') + '.';
  };
  v.add(jobs, detail);
  v.onHide = () => v.stopFollow && v.stopFollow();
  return v;
}

export { ApiError };
