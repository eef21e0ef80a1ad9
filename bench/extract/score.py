#!/usr/bin/env python3
"""Extraction score: serves the labelled sites of bench/extract/sites on loopback, crawls each one
with `scrapersky scrape --crawl N` (two processes, each taking its share of the sites through
--urls-from) and compares the emails and phones it reports with the site's
truth.json. Prints precision and recall per site and overall; with --check, fails below the
targets (emails: recall >= 0.98 at precision 1.0; phones: recall >= 0.95, precision >= 0.98)."""
import argparse
import concurrent.futures
import http.server
import json
import os
import pathlib
import subprocess
import sys
import threading
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent
TYPES = {".html": "text/html; charset=utf-8", ".php": "text/html; charset=utf-8",
         ".xml": "application/xml", ".txt": "text/plain"}


class SiteHandler(http.server.BaseHTTPRequestHandler):
    """Each site's www/ folder, chosen by the Host header; "/x" serves x, x.html or x/index.html."""

    sites = HERE / "sites"  # the corpus being scored (--corpus)

    def do_GET(self):
        host = self.headers.get("Host", "").split(":")[0].lower().removeprefix("www.")
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        root = (self.sites / host / "www").resolve()
        body = None
        if root.is_dir() and ".." not in path:
            rel = path.lstrip("/")
            for candidate in (rel, rel + ".html", (rel.rstrip("/") + "/index.html").lstrip("/")):
                file = (root / candidate).resolve()
                if file.is_file() and root in file.parents:
                    body, kind = file.read_bytes(), TYPES.get(file.suffix, "application/octet-stream")
                    break
        if body is None:
            body, kind, status = b"<html><title>Not found</title></html>", "text/html", 404
        else:
            status = 200
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def scrape_env(port):
    return dict(os.environ,
                FETCH_CONNECT_TO=f"::127.0.0.1:{port}",  # every site name to the loopback server
                FETCH_ALLOW_PRIVATE="127.0.0.1/32",
                FETCH_PER_HOST_DELAY_MS="0",
                LOG_LEVEL="warn")


def scrape_report(binary, host, port, pages, render="auto"):
    """The JSON report of `scrapersky scrape` on one site of the corpus ({} when there is none)."""
    run = subprocess.run([binary, "scrape", f"http://{host}/", "--crawl", str(pages),
                          "--render", render], env=scrape_env(port),
                         capture_output=True, text=True, timeout=300)
    try:
        return json.loads(run.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(f"{host}: no report (exit {run.returncode})\n{run.stderr[-2000:]}\n")
        return {}


def scrape_reports(binary, hosts, port, pages, render="auto", jobs=2):
    """The reports of `scrapersky scrape --urls-from -` on many sites: `jobs` processes, each
    crawling its share of the sites one after another with one fetcher and one browser pool (as
    the server does), so that a browser starts once per process and not once per site.
    {host: report}, {} for a site without one."""
    def batch(share):
        run = subprocess.run([binary, "scrape", "--urls-from", "-", "--crawl", str(pages),
                              "--render", render], env=scrape_env(port),
                             input="".join(f"http://{h}/\n" for h in share),
                             capture_output=True, text=True, timeout=300 + 30 * len(share))
        reports = {}
        for host, line in zip(share, run.stdout.splitlines()):
            try:
                reports[host] = json.loads(line)
            except json.JSONDecodeError:
                break
        if len(reports) < len(share):
            sys.stderr.write(f"{len(share) - len(reports)} of {len(share)} sites without a report "
                             f"(exit {run.returncode})\n{run.stderr[-2000:]}\n")
        return reports

    shares = [hosts[i::jobs] for i in range(jobs) if hosts[i::jobs]]
    reports = {}
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for done in pool.map(batch, shares):
            reports.update(done)
    return {h: reports.get(h, {}) for h in hosts}


def ratio(num, den):
    return num / den if den else 1.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True, help="the scrapersky executable")
    parser.add_argument("--crawl", type=int, default=10, help="pages per site")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--check", action="store_true", help="exit 1 below the targets")
    parser.add_argument("--only", help="one site's host name")
    parser.add_argument("--corpus", default="sites",
                        help="folder of bench/extract to score: sites (labelled small-business "
                             "sites), blind (written without reading the extractors) or real "
                             "(real pages written for other purposes)")
    parser.add_argument("--render", default="auto", choices=["off", "auto", "always"],
                        help="the rendering tier's mode (scrapersky scrape --render)")
    parser.add_argument("--floors", default=None,
                        help="with --check, hold these instead of the targets: "
                             "'max_false_emails=N,max_false_phones=N,min_email_recall=R,"
                             "min_phone_recall=R' (any subset)")
    args = parser.parse_args()
    SiteHandler.sites = HERE / args.corpus

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SiteHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    hosts = sorted(p.name for p in SiteHandler.sites.iterdir() if (p / "truth.json").is_file())
    if args.only:
        hosts = [args.only]
    truth = {h: json.loads((SiteHandler.sites / h / "truth.json").read_text(encoding="utf-8"))
             for h in hosts}
    reports = scrape_reports(args.binary, hosts, port, args.crawl, args.render, args.jobs)
    found = {h: (set(r.get("emails", [])), set(r.get("phones", []))) for h, r in reports.items()}
    server.shutdown()

    totals = {"emails": [0, 0, 0], "phones": [0, 0, 0]}  # true positives, false positives, misses
    print(f"{'site':28} {'lang':4} {'emails tp/fp/fn':>15} {'phones tp/fp/fn':>15}  notes")
    for h in hosts:
        cells, notes = [], []
        for kind, got in zip(("emails", "phones"), found[h]):
            want = set(truth[h][kind])
            tp, fp, fn = len(got & want), len(got - want), len(want - got)
            for i, n in enumerate((tp, fp, fn)):
                totals[kind][i] += n
            cells.append(f"{tp}/{fp}/{fn}")
            notes += [f"extra {x}" for x in sorted(got - want)] + [f"missed {x}" for x in sorted(want - got)]
        print(f"{h:28} {truth[h]['language']:4} {cells[0]:>15} {cells[1]:>15}  {'; '.join(notes)}")
    print()
    scores = {}
    for kind, (tp, fp, fn) in totals.items():
        scores[kind] = (ratio(tp, tp + fp), ratio(tp, tp + fn))
        print(f"{kind}: precision {scores[kind][0]:.3f} recall {scores[kind][1]:.3f} "
              f"({tp} found, {fp} wrong, {fn} missed) over {len(hosts)} sites")
    languages = sorted({t["language"] for t in truth.values()})
    print(f"languages: {', '.join(languages)}")
    if args.check:
        if args.floors:
            floors = dict(item.split("=") for item in args.floors.split(","))
            limits = {"max_false_emails": totals["emails"][1], "max_false_phones": totals["phones"][1],
                      "min_email_recall": scores["emails"][1], "min_phone_recall": scores["phones"][1]}
            ok = True
            for name, value in floors.items():
                have, want = limits[name], float(value)
                held = have <= want if name.startswith("max") else have >= want - 1e-9
                ok = ok and held
                print(f"{name}: {have:g} (floor {want:g}) {'held' if held else 'NOT held'}")
        else:
            ok = (scores["emails"][0] >= 1.0 and scores["emails"][1] >= 0.98 and
                  scores["phones"][0] >= 0.98 and scores["phones"][1] >= 0.95)
            print("targets (emails P=1.0 R>=0.98, phones P>=0.98 R>=0.95):",
                  "met" if ok else "NOT met")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
