#!/usr/bin/env python3
"""Drives the whole pipeline of a running ScraperSky through its HTTP API, as a user would, and
prints what each step produced. Used by `./scripts/run --demo` against the fixture web."""
import json
import sys
import time
import urllib.error
import urllib.request

BASE, TOKEN = sys.argv[1], sys.argv[2]


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method, headers={
        "Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def items(path):
    return call("GET", path)[1]["items"]


def wait_for(what, check, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    sys.exit(f"demo: timed out waiting for {what}")


def step(title, payload):
    print(f"\n== {title}")
    print(json.dumps(payload, indent=2, ensure_ascii=False))


status, job = call("POST", "/api/v3/places/search", {"business_type": "bakery", "location": "Springfield"})
step(f"POST /api/v3/places/search -> {status}", job)
staging = wait_for("places search", lambda: len(items(f"/api/v3/places/staging?limit=500&search_job_id={job['job_id']}")) == 25
                   and items(f"/api/v3/places/staging?limit=500&search_job_id={job['job_id']}"))
demo = [p for p in staging if p["place_id"].rsplit("-", 1)[1] in ("0", "1", "2")]
step("places_staging (3 of 25 shown)", [{k: p[k] for k in ("place_id", "name", "status")} for p in demo])

status, r = call("PUT", "/api/v3/places/staging/status", {"ids": [p["id"] for p in demo], "status": "Selected"})
step(f"PUT /api/v3/places/staging/status Selected -> {status}", r)
businesses = wait_for("deep scans", lambda: len(items("/api/v3/local-businesses")) == 3 and items("/api/v3/local-businesses"))
step("local_businesses", [{k: b[k] for k in ("business_name", "website_url", "phone")} for b in businesses])

status, r = call("PUT", "/api/v3/local-businesses/status", {"ids": [b["id"] for b in businesses], "status": "Selected"})
step(f"PUT /api/v3/local-businesses/status Selected -> {status}", r)
domains = wait_for("domain extraction and metadata",
                   lambda: len(items("/api/v3/domains?status=Completed")) == 3 and items("/api/v3/domains?status=Completed"))
step("domains (metadata from each homepage)",
     [{k: d[k] for k in ("domain", "title", "emails", "social_links", "tech_stack")} for d in domains])

status, r = call("PUT", "/api/v3/domains/sitemap-curation/status", {"ids": [d["id"] for d in domains], "status": "Selected"})
step(f"PUT /api/v3/domains/sitemap-curation/status Selected -> {status}", r)
wait_for("sitemap discovery", lambda: len(items("/api/v3/jobs?type=sitemap&status=Completed")) == 3)
files = items("/api/v3/sitemap-files")
step("sitemap_files", [{k: f[k] for k in ("url", "sitemap_type", "discovery_method", "url_count")} for f in files])

urlsets = [f["id"] for f in files if f["sitemap_type"] == "urlset"]
status, r = call("PUT", "/api/v3/sitemap-files/status", {"ids": urlsets, "status": "Selected"})
step(f"PUT /api/v3/sitemap-files/status Selected -> {status}", r)
wait_for("sitemap import", lambda: len(items("/api/v3/sitemap-files?sitemap_import_status=Completed")) == len(urlsets))
print(f"\n== pages imported: {len(items('/api/v3/pages?limit=500'))}")

scans = [call("POST", "/api/v3/email-scan/scan/website", {"domain_id": d["id"]})[1]["job_id"] for d in domains]
for scan in scans:
    result = wait_for("email scan", lambda: (lambda s: s if s["status"] == "Completed" else None)(
        call("GET", f"/api/v3/email-scan/scan/status/{scan}")[1]))
    step(f"GET /api/v3/email-scan/scan/status/{scan}",
         {"status": result["status"], "progress": result["progress"], "emails": result["emails"],
          "pages_fetched": result["result_data"]["pages_fetched"],
          "skipped_by_robots": result["result_data"]["skipped_by_robots"]})
print(f"\n== contacts: {len(items('/api/v3/contacts?limit=500'))}; the server keeps running (Ctrl-C stops it)")
