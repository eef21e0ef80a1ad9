#!/usr/bin/env python3
"""Crawl benchmark: ScraperSky's crawler and Scrapy's SitemapSpider over the same nginx-served web,
alternating, ROUNDS times each; prints medians of pages/s, CPU ms per page and peak RSS."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
bench_bin, port, sites = sys.argv[1], sys.argv[2], sys.argv[3]
rounds = int(os.environ.get("ROUNDS", 3))
concurrency, per_host = os.environ.get("CONCURRENCY", "64"), os.environ.get("PER_HOST", "8")


def measure(argv, env=None):
    """Runs argv to completion; returns (stdout, wall s, cpu s, peak RSS MiB) from wait4."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    if status != 0:
        sys.exit(f"{argv[0]} failed with status {status}")
    return out.decode(), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def ours():
    out, wall, cpu, rss = measure([bench_bin, port, concurrency, per_host, sites])
    r = json.loads(out.strip().splitlines()[-1])
    return {"pages": r["pages"], "emails": r["emails"], "wall": wall, "cpu": cpu, "rss": rss}


def scrapy():
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        env = dict(os.environ, BENCH_RESULT=result.name, PYTHONPATH=here)
        _, wall, cpu, rss = measure(["/usr/bin/python3", os.path.join(here, "scrapy_crawl.py"),
                                     concurrency, per_host, sites], env)
        r = json.load(open(result.name))
    return {"pages": r["pages"], "emails": r["emails"], "wall": wall, "cpu": cpu, "rss": rss}


runs = {"ScraperSky": [], "Scrapy 2.8": []}
for i in range(rounds):
    runs["ScraperSky"].append(ours())
    runs["Scrapy 2.8"].append(scrapy())
    print(f"round {i + 1}: " + ", ".join(
        f"{k} {v[-1]['pages']} pages in {v[-1]['wall']:.2f} s" for k, v in runs.items()),
        file=sys.stderr)

summary = {}
for name, rs in runs.items():
    summary[name] = {
        "pages": rs[0]["pages"],
        "emails": rs[0]["emails"],
        "pages_per_s": statistics.median(r["pages"] / r["wall"] for r in rs),
        "cpu_ms_per_page": statistics.median(1000 * r["cpu"] / r["pages"] for r in rs),
        "peak_rss_mib": statistics.median(r["rss"] for r in rs),
    }
print(f"\n| crawler | pages | emails | pages/s | CPU ms/page | peak RSS MiB |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for name, s in summary.items():
    print(f"| {name} | {s['pages']} | {s['emails']} | {s['pages_per_s']:,.0f} | "
          f"{s['cpu_ms_per_page']:.3f} | {s['peak_rss_mib']:.0f} |")
a, b = summary["ScraperSky"], summary["Scrapy 2.8"]
print(f"\nScraperSky / Scrapy: {a['pages_per_s'] / b['pages_per_s']:.1f}x pages/s, "
      f"{b['cpu_ms_per_page'] / a['cpu_ms_per_page']:.1f}x less CPU per page "
      f"(medians of {rounds} alternating rounds; concurrency {concurrency}, {per_host} per host)")
