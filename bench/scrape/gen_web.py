#!/usr/bin/env python3
"""Generates the benchmark web: DOMAINS sites of PAGES pages (11-20 KB each), each site with a
robots.txt naming its sitemap.xml, served by nginx from <out>/<host>/ (root by $host)."""
import os
import random
import sys

out, port = sys.argv[1], int(sys.argv[2])
domains = int(os.environ.get("DOMAINS", 50))
pages = int(os.environ.get("PAGES", 100))
rng = random.Random(42)
words = ("bakery fresh bread sourdough pastry oven morning delivery catering wedding cake order "
         "local family quality service neighbourhood coffee organic flour seasonal team").split()


def paragraph():
    return " ".join(rng.choice(words) for _ in range(rng.randint(40, 90)))


for d in range(domains):
    host = f"site{d:02d}.bench-bakery.com"
    root = os.path.join(out, host)
    os.makedirs(os.path.join(root, "p"), exist_ok=True)
    origin = f"http://{host}:{port}"
    with open(os.path.join(root, "robots.txt"), "w") as f:
        f.write(f"User-agent: *\nDisallow: /private/\n\nSitemap: {origin}/sitemap.xml\n")
    with open(os.path.join(root, "sitemap.xml"), "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n')
        for p in range(pages):
            f.write(f"<url><loc>{origin}/p/{p}.html</loc><lastmod>2026-10-01</lastmod></url>\n")
        f.write("</urlset>\n")
    for p in range(pages):
        target = rng.randint(11_000, 20_000)
        body = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{host} page {p}</title><meta name=\"description\" content=\"{paragraph()[:150]}\">"
                f"<link rel=\"stylesheet\" href=\"/static/site.css\"></head><body>"
                f"<nav><a href=\"/\">Home</a> <a href=\"/p/{(p + 1) % pages}.html\">Next</a> "
                f"<a href=\"/contact\">Contact</a></nav>"]
        body.append(f"<p>Write to <a href=\"mailto:info@{host}\">info@{host}</a> or "
                    f"sales{p}@{host}.</p>")
        while sum(len(b) for b in body) < target - 200:
            body.append(f"<p>{paragraph()}</p>")
        body.append(f"<footer>&copy; 2026 {host}, owner{p % 7}@{host}</footer></body></html>")
        with open(os.path.join(root, "p", f"{p}.html"), "w") as f:
            f.write("".join(body))
print(f"{domains} sites x {pages} pages in {out}")
