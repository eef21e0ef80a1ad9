"""Scrapy's side of the server benchmark: fetches a list of page URLs and extracts from each page
its emails (the regular expression of bench/scrape's spider), title, meta description, language,
canonical link and Open Graph properties, writing one JSON line per page to a feed file.

    python3 scrapy_pages.py URL_FILE HOSTS_FILE ITEMS_FILE RESULT_FILE CONCURRENCY PER_DOMAIN

With SCRAPY_EMAILS_ONLY=1 it extracts only the emails (bench/scrape's spider does just that).
HOSTS_FILE has one "name address" pair a line: the resolver answers each site name with its own
loopback address, as DNS would give distinct hosts. RESULT_FILE gets {pages, emails, seconds,
cpu_seconds}: the crawl window, from the first request to the last page parsed, and the process
CPU time from the first request to the spider's close (startup and imports excluded)."""
import json
import os
import re
import resource
import sys
import time

import scrapy
from scrapy.crawler import CrawlerProcess
from twisted.internet import defer
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@implementer(IResolverSimple)
class SiteResolver:
    """Each benchmark site name resolves to its own 127.0.0.x address; anything else fails."""

    def __init__(self, reactor, hosts):
        self.reactor = reactor
        self.hosts = hosts

    @classmethod
    def from_crawler(cls, crawler, reactor):
        return cls(reactor, crawler.settings.getdict("BENCH_HOSTS"))

    def install_on_reactor(self):
        self.reactor.installResolver(self)

    def getHostByName(self, name, timeout=None):
        if name in self.hosts:
            return defer.succeed(self.hosts[name])
        return defer.fail(DNSLookupError(name))


class PageSpider(scrapy.Spider):
    name = "pages"

    def __init__(self, url_file="", result_file="", **kwargs):
        super().__init__(**kwargs)
        self.url_file, self.result_file = url_file, result_file
        self.emails = set()
        self.pages = 0
        self.started = self.last_page = None
        self.cpu_start = 0.0

    def start_requests(self):
        self.started = self.last_page = time.monotonic()
        self.cpu_start = cpu_seconds()
        with open(self.url_file) as f:
            for line in f:
                yield scrapy.Request(line.strip(), callback=self.parse)

    def parse(self, response):
        self.pages += 1
        self.last_page = time.monotonic()
        emails = sorted(set(EMAIL.findall(response.text)))
        self.emails.update(emails)
        if os.environ.get("SCRAPY_EMAILS_ONLY") == "1":
            yield {"url": response.url, "emails": emails}
            return
        og = {}
        for meta in response.xpath("//meta[starts-with(@property, 'og:')]"):
            og[meta.attrib["property"][3:]] = meta.attrib.get("content", "")
        yield {
            "url": response.url,
            "status": response.status,
            "title": response.xpath("//title/text()").get(),
            "description": response.xpath("//meta[@name='description']/@content").get(),
            "language": response.xpath("/html/@lang").get(),
            "canonical": response.xpath("//link[@rel='canonical']/@href").get(),
            "open_graph": og,
            "emails": emails,
        }

    def closed(self, reason):
        with open(self.result_file, "w") as f:
            json.dump({"pages": self.pages, "emails": len(self.emails),
                       "seconds": self.last_page - self.started,
                       "cpu_seconds": cpu_seconds() - self.cpu_start}, f)


def main():
    url_file, hosts_file, items_file, result_file = sys.argv[1:5]
    concurrency, per_domain = int(sys.argv[5]), int(sys.argv[6])
    hosts = dict(line.split() for line in open(hosts_file) if line.strip())
    process = CrawlerProcess(settings={
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain,
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": False,  # the server's page scrape does not read robots.txt either
        "DNS_RESOLVER": "scrapy_pages.SiteResolver",
        "BENCH_HOSTS": hosts,
        "FEEDS": {items_file: {"format": "jsonlines", "encoding": "utf8"}},
        "LOG_LEVEL": "ERROR",
        "TELNETCONSOLE_ENABLED": False,
        "COOKIES_ENABLED": False,
        "RETRY_ENABLED": False,
        "USER_AGENT": "ScrapyBench/1.0",
    })
    process.crawl(PageSpider, url_file=url_file, result_file=result_file)
    process.start()


if __name__ == "__main__":
    main()
