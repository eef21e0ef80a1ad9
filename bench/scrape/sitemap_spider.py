"""Scrapy's side of the crawl benchmark: a SitemapSpider that starts from each site's robots.txt,
follows its sitemaps and extracts emails from every page with a regular expression."""
import json
import os
import re

from scrapy.spiders import SitemapSpider
from twisted.internet import defer
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@implementer(IResolverSimple)
class LoopbackResolver:
    """Every benchmark host name is the local nginx; each keeps its own name, so Scrapy's
    per-domain concurrency applies per site."""

    def __init__(self, reactor):
        self.reactor = reactor

    @classmethod
    def from_crawler(cls, crawler, reactor):
        return cls(reactor)

    def install_on_reactor(self):
        self.reactor.installResolver(self)

    def getHostByName(self, name, timeout=None):
        return defer.succeed("127.0.0.1")


class BenchSpider(SitemapSpider):
    name = "bench"

    def __init__(self, sites="", **kwargs):
        self.sitemap_urls = [f"http://{s}/robots.txt" for s in sites.split(",")]
        self.emails = set()
        self.pages = 0
        super().__init__(**kwargs)

    def parse(self, response):
        self.pages += 1
        self.emails.update(EMAIL.findall(response.text))

    def closed(self, reason):
        with open(os.environ["BENCH_RESULT"], "w") as f:
            json.dump({"pages": self.pages, "emails": len(self.emails)}, f)
