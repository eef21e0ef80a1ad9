// spider-rs's side of the server benchmark: its crawler (the Rust spider crate through its Node
// binding) crawls each site by links from the site's first URL in URL_FILE, and every page gets
// its emails extracted (bench/scrape's regular expression) and, unless EMAILS_ONLY=1, the title,
// meta description, language, canonical link and Open Graph properties by regular expressions
// over the HTML (the fields scrapy_pages.py takes). One JSON line a page.
//
//     node spider_pages.js URL_FILE ITEMS_FILE RESULT_FILE SITES_AT_ONCE
//
// A crawl follows only page URLs (/p/N.html, as gen_web.py names them): every page links to the
// next, so each site's crawl reaches its pages one after another and fetches exactly the pages
// of URL_FILE. The binding sets no concurrency of its own for such a chain (its per-site limit,
// 20 or 30 by the machine's cores, is for links found together), so SITES_AT_ONCE sites crawl at
// a time.
// Site names resolve through /etc/hosts (bench.py runs this in a mount namespace whose
// /etc/hosts names each site's loopback address). RESULT_FILE gets {pages, emails, seconds,
// cpu_seconds, failed, missing}: the crawl window, from the first crawl's start to the last page
// handled, and the process's CPU time over it (Node's startup and the binding's load left out).
'use strict';
const fs = require('node:fs');
const { EMAIL, cpuSeconds } = require('./peer_common.js');
const { Website } = require('@spider-rs/spider-rs');

const [urlFile, itemsFile, resultFile, sitesArg] = process.argv.slice(2);
const sitesAtOnce = Number(sitesArg);
const emailsOnly = process.env.EMAILS_ONLY === '1';
const PAGE_PATH = '/p/[0-9]+\\.html$';
const TITLE = /<title[^>]*>([^<]*)<\/title>/i;
const LANG = /<html\b[^>]*?\blang\s*=\s*["']?([^"'\s>]+)/i;
const TAG = /<(meta|link)\b[^>]*>/gi;
const ATTR = /([a-zA-Z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g;

function attributes(tag) {
  const a = {};
  for (const m of tag.matchAll(ATTR)) a[m[1].toLowerCase()] = m[2] ?? m[3] ?? m[4];
  return a;
}

function fields(html, emails, url, status) {
  if (emailsOnly) return { url, emails };
  let description = null;
  let canonical = null;
  const og = {};
  for (const m of html.matchAll(TAG)) {
    const a = attributes(m[0]);
    if (m[1].toLowerCase() === 'link') {
      if (canonical === null && a.rel?.toLowerCase() === 'canonical') canonical = a.href ?? null;
    } else if (a.property?.startsWith('og:')) {
      og[a.property.slice(3)] = a.content ?? '';
    } else if (description === null && a.name?.toLowerCase() === 'description') {
      description = a.content ?? null;
    }
  }
  return {
    url,
    status,
    title: TITLE.exec(html)?.[1] ?? null,
    description,
    language: LANG.exec(html)?.[1] ?? null,
    canonical,
    open_graph: og,
    emails,
  };
}

async function main() {
  const urls = fs.readFileSync(urlFile, 'utf8').split('\n').filter(Boolean);
  const starts = new Map(); // origin -> its first URL in the list
  for (const u of urls) {
    const origin = new URL(u).origin;
    if (!starts.has(origin)) starts.set(origin, u);
  }
  const out = fs.createWriteStream(itemsFile);
  const seen = new Set();
  const fetched = new Set();
  let pages = 0;
  let failed = 0; // pages without a 200 (the binding hands those over too)
  let lastPage = 0;

  const onPage = (err, page) => {
    if (err) throw err;
    const html = page.content;
    const emails = [...new Set(html.match(EMAIL) ?? [])].sort();
    for (const e of emails) seen.add(e);
    out.write(JSON.stringify(fields(html, emails, page.url, page.statusCode)) + '\n');
    fetched.add(page.url);
    if (page.statusCode !== 200) failed++;
    pages++;
    lastPage = performance.now();
  };

  const queue = [...starts.values()];
  const crawlSites = async () => {
    for (let start; (start = queue.shift()) !== undefined;) {
      const website = new Website(start)
        .withDepth(0) // no depth limit: the chain of pages is as long as the site
        .withRespectRobotsTxt(false) // the server's page scrape does not read robots.txt either
        .withWhitelistUrl([PAGE_PATH])
        .withUserAgent('SpiderBench/1.0')
        .build();
      await website.crawl(onPage);
    }
  };

  const started = performance.now();
  const cpuStart = cpuSeconds();
  await Promise.all(Array.from({ length: Math.min(sitesAtOnce, queue.length) }, crawlSites));
  // A crawl's promise settles before the binding has handed over its last pages: wait until
  // they stop coming (idle time, outside the wall-time window).
  for (let before = -1; before !== pages;) {
    before = pages;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
  const cpu = cpuSeconds() - cpuStart;
  fs.writeFileSync(resultFile, JSON.stringify({
    pages, emails: seen.size, seconds: (lastPage - started) / 1000, cpu_seconds: cpu,
    failed, missing: urls.filter((u) => !fetched.has(u)).length,
  }));
}

// The binding keeps the process alive after the crawls.
main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
