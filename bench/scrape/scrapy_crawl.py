"""Runs BenchSpider in-process with the benchmark's settings (no project needed)."""
import os
import sys

from scrapy.crawler import CrawlerProcess

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sitemap_spider import BenchSpider  # noqa: E402

concurrency, per_domain, sites = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
process = CrawlerProcess(settings={
    "CONCURRENT_REQUESTS": concurrency,
    "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain,
    "DOWNLOAD_DELAY": 0,
    "ROBOTSTXT_OBEY": True,
    "DNS_RESOLVER": "sitemap_spider.LoopbackResolver",
    "LOG_LEVEL": "ERROR",
    "TELNETCONSOLE_ENABLED": False,
    "COOKIES_ENABLED": False,
    "RETRY_ENABLED": False,
    "USER_AGENT": "ScrapyBench/1.0",
})
process.crawl(BenchSpider, sites=sites)
process.start()
