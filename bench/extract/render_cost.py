#!/usr/bin/env python3
"""What the rendering tier costs: crawls a corpus with `scrapersky scrape --render off`, `auto`
and `always` (the same sites, the same loopback server as score.py) and prints, per mode, the
pages fetched and rendered, wall time, CPU time of scrapersky and its browsers together, and the
browsers' peak memory (proportional set size of every process of a browser profile made by the
pool, sampled every 50 ms). Per rendered page: CPU ms and wall ms beyond the `off` run, and the
median of the pages' own render times."""
import argparse
import concurrent.futures
import http.server
import os
import pathlib
import resource
import statistics
import sys
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import score  # noqa: E402  (the corpus server)


def browser_pss_kb():
    """Proportional set size of every process of a browser the pool started."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
            if b"sky-browser-" not in cmdline:
                continue
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


def measure(binary, hosts, port, pages, mode, jobs):
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], browser_pss_kb())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        reports = list(pool.map(lambda h: score.scrape_report(binary, h, port, pages, mode),
                                 hosts))
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    done.set()
    sampler.join()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    fetched = sum(r.get("pages_fetched", 0) for r in reports)
    rendered = sum(r.get("pages_rendered", 0) for r in reports)
    failed = sum(r.get("render_failures", 0) for r in reports)
    render_seconds = [p["render"]["seconds"] for r in reports for p in r.get("pages", [])
                      if "render" in p and "error" not in p["render"]]
    return {"mode": mode, "fetched": fetched, "rendered": rendered, "failed": failed,
            "wall": wall, "cpu": cpu, "peak_mb": peak[0] / 1024,
            "render_median_ms": statistics.median(render_seconds) * 1000 if render_seconds else 0}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--corpus", default="blind", choices=["sites", "blind", "real"])
    parser.add_argument("--crawl", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    score.SiteHandler.sites = HERE / args.corpus
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), score.SiteHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hosts = sorted(p.name for p in score.SiteHandler.sites.iterdir()
                   if (p / "truth.json").is_file())
    runs = [measure(args.binary, hosts, server.server_address[1], args.crawl, mode, args.jobs)
            for mode in ("off", "auto", "always")]
    base = runs[0]
    print(f"corpus {args.corpus}: {len(hosts)} sites, --crawl {args.crawl}, {args.jobs} at once")
    print("| mode | pages | rendered (share) | failed | wall s | CPU s | browsers' peak MB | "
          "per rendered page: CPU ms beyond off | wall ms beyond off | median render ms | "
          "rendered pages/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in runs:
        n = r["rendered"]
        share = f"{n} ({100 * n / r['fetched']:.0f} %)" if r["fetched"] else "0"
        extra_cpu = (r["cpu"] - base["cpu"]) * 1000 / n if n else 0
        extra_wall = (r["wall"] - base["wall"]) * 1000 / n if n else 0
        rate = n / r["wall"] if n else 0
        print(f"| {r['mode']} | {r['fetched']} | {share} | {r['failed']} | {r['wall']:.1f} | "
              f"{r['cpu']:.1f} | {r['peak_mb']:.0f} | {extra_cpu:.0f} | {extra_wall:.0f} | "
              f"{r['render_median_ms']:.0f} | {rate:.1f} |")
    server.shutdown()


if __name__ == "__main__":
    main()
