#!/usr/bin/env python3
"""Generates the benchmark web: DOMAINS sites of PAGES pages (11-20 KB each), each site with a
robots.txt naming its sitemap.xml, served by nginx from <out>/<host>/ (root by $host).

Each site also has a homepage (index.html) linking to its contact and about pages (contact.html
and about.html, which nginx serves as /contact and /about when told to try `$uri.html`) and to its
first 20 pages, for crawls that start from the homepage. Those three pages draw from their own
random sequence, so the sitemap's pages are the same as without them."""
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


def small_page(host, title, body):
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<meta name=\"description\" content=\"{title}: fresh bread every morning\"></head>"
            f"<body><nav><a href=\"/\">Home</a> <a href=\"/about\">About</a> "
            f"<a href=\"/contact\">Contact</a></nav>{body}<footer>&copy; 2026 {host}</footer>"
            f"</body></html>")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


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
    home_rng = random.Random(f"home-{d}")
    line = f"{home_rng.randint(100, 999):04d}"
    links = " ".join(f"<a href=\"/p/{p}.html\">Page {p}</a>" for p in range(min(pages, 20)))
    write(os.path.join(root, "index.html"),
          small_page(host, f"{host}", f"<h1>Welcome</h1><p>Write to info@{host}.</p><p>{links}</p>"))
    write(os.path.join(root, "contact.html"),
          small_page(host, f"Contact {host}",
                     f"<h1>Contact</h1><p>Orders: <a href=\"mailto:orders@{host}\">orders@{host}"
                     f"</a>, press: press@{host}. Call <a href=\"tel:+1217555{line}\">"
                     f"(217) 555-{line}</a>.</p>"))
    write(os.path.join(root, "about.html"),
          small_page(host, f"About {host}",
                     f"<h1>About us</h1><p>Founded by anna{home_rng.randint(1, 99)}@{host}.</p>"))
print(f"{domains} sites x {pages} pages in {out}")
