// Crawlee's side of the server benchmark: an HttpCrawler (got-scraping) fetches a list of page
// URLs in order and extracts from each page its emails (bench/scrape's regular expression) and,
// unless EMAILS_ONLY=1, the title, meta description, language, canonical link and Open Graph
// properties with cheerio, as scrapy_pages.py does with Scrapy's selectors. One JSON line a page.
//
//     node crawlee_pages.js URL_FILE ITEMS_FILE RESULT_FILE CONCURRENCY
//
// Site names resolve through /etc/hosts (bench.py runs this in a mount namespace whose /etc/hosts
// names each site's loopback address). RESULT_FILE gets {pages, emails, seconds, cpu_seconds,
// failed}: the crawl window, from the first request queued to the last page handled, the CPU
// time of the process and its reaped children from then to the crawler's end (Node's and
// Crawlee's startup left out, as for Scrapy), and the requests that failed.
'use strict';
const fs = require('node:fs');
const { EMAIL, cpuSeconds } = require('./peer_common.js');
const os = require('node:os');
const path = require('node:path');

const [urlFile, itemsFile, resultFile, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const emailsOnly = process.env.EMAILS_ONLY === '1';
// Crawlee reads its storage settings when it loads: keep everything in memory, and anything it
// writes anyway in a directory that goes away with the run.
process.env.CRAWLEE_STORAGE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'crawlee-'));
process.env.CRAWLEE_PERSIST_STORAGE = 'false';

const { HttpCrawler, Configuration, log } = require('@crawlee/http');
const cheerio = require('cheerio');

function fields(body, emails, url, status) {
  if (emailsOnly) return { url, emails };
  const $ = cheerio.load(body);
  const og = {};
  $('meta[property^="og:"]').each((_, m) => {
    og[$(m).attr('property').slice(3)] = $(m).attr('content') ?? '';
  });
  return {
    url,
    status,
    title: $('title').first().text() || null,
    description: $('meta[name="description"]').attr('content') ?? null,
    language: $('html').attr('lang') ?? null,
    canonical: $('link[rel="canonical"]').attr('href') ?? null,
    open_graph: og,
    emails,
  };
}

async function main() {
  const urls = fs.readFileSync(urlFile, 'utf8').split('\n').filter(Boolean);
  const out = fs.createWriteStream(itemsFile);
  const seen = new Set();
  let pages = 0;
  let lastPage = 0;
  log.setLevel(log.LEVELS.ERROR);
  const config = new Configuration({ persistStorage: false, purgeOnStart: true });
  const crawler = new HttpCrawler({
    // A fixed number of requests in flight: the autoscaled pool would otherwise start at a few
    // and grow over tens of seconds, longer than the whole crawl.
    minConcurrency: concurrency,
    maxConcurrency: concurrency,
    maxRequestRetries: 0, // Scrapy's retries are off too
    useSessionPool: false,
    persistCookiesPerSession: false,
    respectRobotsTxtFile: false,
    async requestHandler({ request, body, response }) {
      const text = typeof body === 'string' ? body : body.toString();
      const emails = [...new Set(text.match(EMAIL) ?? [])].sort();
      for (const e of emails) seen.add(e);
      out.write(JSON.stringify(fields(text, emails, request.loadedUrl ?? request.url,
        response.statusCode)) + '\n');
      pages++;
      lastPage = performance.now();
    },
  }, config);

  const started = performance.now();
  const cpuStart = cpuSeconds();
  await crawler.run(urls);
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
  const cpu = cpuSeconds() - cpuStart;
  fs.writeFileSync(resultFile, JSON.stringify({
    pages, emails: seen.size, seconds: (lastPage - started) / 1000, cpu_seconds: cpu,
    failed: crawler.stats.state.requestsFailed,
  }));
  fs.rmSync(process.env.CRAWLEE_STORAGE_DIR, { recursive: true, force: true });
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
