#!/usr/bin/env python3
"""The server benchmark's rounds (bench/server/run sets up nginx and PostgreSQL, then runs this).

Every ScraperSky run is a `scrapersky serve` process on a fresh database: 5,000 page URLs go in
through POST /api/v3/batch/page-scraper and the clock stops when no page_scrape job is left
unfinished. Scrapy and Crawlee fetch the same URLs, spider-rs crawls the same pages by their
links, and the library-only crawler of bench/scrape crawls the same sites. Rounds are interleaved;
figures are medians. Markdown tables go to stdout, progress to stderr, every measurement to
RESULTS (JSON) when set."""
import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")
POLL_S = 0.02

ap = argparse.ArgumentParser()
ap.add_argument("--bin", required=True)
ap.add_argument("--crawl-bin", default="")
ap.add_argument("--pg-port", required=True)
ap.add_argument("--pg-pid", type=int, required=True)
ap.add_argument("--nginx-pid", type=int, required=True)
ap.add_argument("--nginx-port", required=True)
ap.add_argument("--access-log", required=True)
ap.add_argument("--hosts", required=True, help="file of 'name address' lines")
ap.add_argument("--work", required=True)
ap.add_argument("--node", default="", help="Node 22 for the Node peers (spider-rs, Crawlee)")
ap.add_argument("--node-modules", default="", help="their packages")
args = ap.parse_args()

ROUNDS = int(os.environ.get("ROUNDS", 3))
SWEEP = os.environ.get("SWEEP", "1") != "0"
SCRAPY = os.environ.get("SCRAPY", "1") != "0"
SPIDER = os.environ.get("SPIDER", "1") != "0" and bool(args.node)
CRAWLEE = os.environ.get("CRAWLEE", "1") != "0" and bool(args.node)
SCANS = int(os.environ.get("SCANS", 100))
PAGES_LIMIT = int(os.environ.get("URLS", 5000))
PAGE_RUNS = os.environ.get("PAGE_RUNS", "1") != "0"  # 0: only the email scans (development)
SCAN_ROUNDS = ROUNDS
PG_STATS = os.environ.get("PG_STATS", "") not in ("", "0")
BEST = os.environ.get("BEST", "")  # "VAR=value,VAR=value": skips the sweep
# COMPARE_BIN=path: both ScraperSky rows once more with that binary in every round, beside the
# first (an A/B comparison of two builds; which of the two runs first alternates by round), named
# with COMPARE_LABEL ("compare" by default).
COMPARE_BIN = os.environ.get("COMPARE_BIN", "")
COMPARE_LABEL = os.environ.get("COMPARE_LABEL", "compare")
SCRAPY_CONCURRENCY, SCRAPY_PER_DOMAIN = 64, 8
PAGE_QUEUE = "PAGE_SCRAPE_SCHEDULER"

hosts = [tuple(line.split()) for line in open(args.hosts) if line.strip()]
port = args.nginx_port


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def page_urls():
    """ORDER=interleaved (the default): page p of every site, then page p+1 of every site...
    ORDER=site: every page of one site, then the next site's, as a sitemap import lists them."""
    pages = int(os.environ.get("PAGES", 50))
    if os.environ.get("ORDER", "interleaved") == "site":
        urls = [f"http://{name}:{port}/p/{p}.html" for name, _ in hosts for p in range(pages)]
    else:
        urls = [f"http://{name}:{port}/p/{p}.html" for p in range(pages) for name, _ in hosts]
    return urls[:PAGES_LIMIT]


URLS = page_urls()
URL_FILE = os.path.join(args.work, "urls.txt")
with open(URL_FILE, "w") as f:
    f.write("\n".join(URLS) + "\n")


# --- /proc ---------------------------------------------------------------------------------------

def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()  # fields from the 3rd (state) on


def cpu_s(pid, children=False):
    """utime + stime of a process (and of its reaped children when asked), in seconds."""
    f = stat_fields(pid)
    ticks = int(f[11]) + int(f[12])
    if children:
        ticks += int(f[13]) + int(f[14])
    return ticks / TICK


def status_of(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def postgres_cpu_s():
    """CPU of the whole cluster: the postmaster and every child, plus the children it has
    reaped (connections that ended count there)."""
    total = cpu_s(args.pg_pid, children=True)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            f = stat_fields(entry)
            if int(f[1]) == args.pg_pid:
                total += (int(f[11]) + int(f[12])) / TICK
        except (OSError, ValueError, IndexError):
            pass
    return total


def busy_s():
    """CPU time the whole machine has spent busy (all cores), from /proc/stat: user, nice,
    system, and time taken by the hypervisor (steal). Interrupt time is left out: the loopback
    traffic's softirq work is charged there rather than to the processes that caused it."""
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return (user + nice + system + steal) / TICK


def ours_s():
    """CPU of everything this benchmark runs: this script and its children (live ones, and
    reaped ones such as Scrapy), nginx, and the PostgreSQL cluster."""
    total = cpu_s(os.getpid(), children=True) + cpu_s(args.nginx_pid, children=True)
    me, nginx = str(os.getpid()), str(args.nginx_pid)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                f = stat_fields(entry)
                if f[1] in (me, nginx):
                    total += (int(f[11]) + int(f[12])) / TICK
            except (OSError, ValueError, IndexError):
                pass
    return total + postgres_cpu_s()


class Others:
    """The share of the machine's CPU that other processes used over a window: 0 % on a quiet
    machine, and what the figures of that window competed with otherwise."""

    def __init__(self):
        self.busy0, self.ours0, self.t0 = busy_s(), ours_s(), time.monotonic()

    def pct(self):
        others = (busy_s() - self.busy0) - (ours_s() - self.ours0)
        return max(0.0, 100 * others / ((time.monotonic() - self.t0) * os.cpu_count()))


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# --- nginx's access log: one line per request with the connection's serial number --------------

def rotate_access_log():
    """Moves the log aside and has nginx reopen it (flushing its buffer into the old file);
    returns the requests logged since the previous rotation as (addr, conn, status) tuples."""
    moved = args.access_log + ".prev"
    try:
        os.rename(args.access_log, moved)
    except FileNotFoundError:
        return []
    os.kill(args.nginx_pid, signal.SIGUSR1)
    time.sleep(0.5)  # the worker flushes and reopens asynchronously
    lines = []
    with open(moved) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4:
                lines.append((parts[0], parts[1], parts[3]))
    os.unlink(moved)
    return lines


def traffic(lines):
    return {"requests": len(lines), "connections": len({conn for _, conn, _ in lines}),
            "status_200": sum(1 for *_, s in lines if s == "200"),
            "status_400": sum(1 for *_, s in lines if s == "400")}


# --- PostgreSQL ----------------------------------------------------------------------------------

class Psql:
    """One psql process kept open: a statement in, its first output line back (empty when it
    prints nothing), read up to a marker echoed after it."""

    def __init__(self, db):
        self.p = subprocess.Popen(
            ["psql", "-X", "-At", "-q", "-v", "ON_ERROR_STOP=0", "-h", "127.0.0.1", "-p",
             args.pg_port, "-U", "postgres", "-d", db],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def one(self, sql):
        self.p.stdin.write(" ".join(sql.split()) + ";\n\\echo __end__\n")
        self.p.stdin.flush()
        lines = []
        while (line := self.p.stdout.readline()) and line.strip() != "__end__":
            lines.append(line.strip())
        if not line:
            sys.exit("psql ended")
        return lines[0] if lines else ""

    def close(self):
        self.p.stdin.close()
        self.p.wait()


admin = Psql("postgres")
run_counter = 0


# --- the server ----------------------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def connect_to(ports):
    """Every site name to its own address, for the given ports of the URLs. curl walks this
    list for every transfer (formatting each entry), so each workload gets only the entries it
    needs: the page URLs' port, or 80 and 443 for the scans, which start from https://<domain>/
    and fall back to http:// (443 reaches the plain-HTTP listener, so the TLS handshake fails at
    once, as on a site without HTTPS)."""
    return ",".join(f"{name}:{p}:{addr}:{port}" for p in ports for name, addr in hosts)


class Server:
    def __init__(self, settings, ports, binary=None):
        global run_counter
        binary = binary or args.bin
        run_counter += 1
        self.db = f"bench_{run_counter}"
        admin.one(f"DROP DATABASE IF EXISTS {self.db}")
        admin.one(f"CREATE DATABASE {self.db}")
        self.http_port = free_port()
        self.secret = secrets.token_urlsafe(36)
        env = dict(os.environ)
        for k in list(env):
            if k.startswith(("FETCH_", "PAGE_SCRAPE_", "EMAIL_SCAN_", "WORK_THREADS")):
                del env[k]
        env.update({
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{args.pg_port}/{self.db}",
            "HOST": "127.0.0.1", "PORT": str(self.http_port),
            "ENVIRONMENT": "production", "JWT_SECRET": self.secret,
            "FETCH_CONNECT_TO": connect_to(ports), "FETCH_ALLOW_PRIVATE": "127.0.0.0/8",
            "FETCH_PER_HOST_DELAY_MS": "0",
        })
        env.update(settings)
        self.log_path = os.path.join(args.work, f"server-{run_counter}.log")
        self.proc = subprocess.Popen([binary, "serve"], env=env, stdout=open(self.log_path, "w"),
                                     stderr=subprocess.STDOUT)
        self.token = subprocess.check_output([binary, "token", "--sub", "bench"],
                                             env=env, text=True).strip()
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                sys.exit(f"scrapersky exited; see {self.log_path}:\n" + open(self.log_path).read())
            try:
                if self.request("GET", "/ready")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"scrapersky not ready after 60 s; see {self.log_path}")
            time.sleep(0.05)
        self.sql = Psql(self.db)
        self.sql.one("CHECKPOINT")

    def request(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=60)
        headers = {"Content-Type": "application/json"}
        if path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {self.token}"
        c.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, (json.loads(data) if data else None)

    def post(self, path, body):
        status, answer = self.request("POST", path, body)
        if status != 202:
            sys.exit(f"POST {path}: {status} {answer}")
        return answer

    def wait_none(self, sql, on_poll=None):
        while True:
            if on_poll:
                on_poll()
            if self.sql.one(sql) == "0":
                return
            if self.proc.poll() is not None:
                sys.exit(f"scrapersky exited during the run; see {self.log_path}")
            time.sleep(POLL_S)

    def stop(self):
        self.sql.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        admin.one(f"DROP DATABASE IF EXISTS {self.db}")
        os.unlink(self.log_path)


class Window:
    """Server CPU, PostgreSQL CPU, wall time and the most threads seen, over a timed window."""

    def __init__(self, server):
        self.pid = server.proc.pid
        self.threads = 0
        # The harness's own backend (the completion probe) is not the server's work: its CPU is
        # left out of PostgreSQL's figure and reported on its own, as bench/queue does.
        self.probe_pid = int(server.sql.one("SELECT pg_backend_pid()"))
        rotate_access_log()  # whatever came before is not this window's
        self.others = Others()
        self.cpu0, self.pg0, self.t0 = cpu_s(self.pid), postgres_cpu_s(), time.monotonic()
        self.probe0 = cpu_s(self.probe_pid)

    def sample(self):
        self.threads = max(self.threads, int(status_of(self.pid)["Threads"]))

    def close(self):
        self.wall = time.monotonic() - self.t0
        self.sample()
        self.probe = cpu_s(self.probe_pid) - self.probe0
        self.cpu, self.pg = cpu_s(self.pid) - self.cpu0, postgres_cpu_s() - self.pg0 - self.probe
        self.others_pct = self.others.pct()
        self.hwm_mib = int(status_of(self.pid)["VmHWM"].split()[0]) / 1024
        self.net = traffic(rotate_access_log())


def start_perf(pid, profile):
    if not profile:
        return None
    return subprocess.Popen(["perf", "record", "-q", "-F", "499", "--call-graph", "dwarf,16384",
                             "-p", str(pid), "-o", profile], stdout=subprocess.DEVNULL)


def stop_perf(perf):
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait()


def scrapersky_pages(settings, profile=None, binary=None):
    """One run; with `profile` (a path), `perf record` samples the server during the window."""
    s = Server(settings, [port], binary)
    try:
        if PG_STATS:
            admin.one("SELECT pg_stat_statements_reset()")
            pg_processes_before.clear()
            pg_processes_before.update(pg_processes())
        w = Window(s)
        perf = start_perf(s.proc.pid, profile)
        for i in range(0, len(URLS), 1000):
            s.post("/api/v3/batch/page-scraper", {"urls": URLS[i:i + 1000]})
            w.sample()
        submitted = time.monotonic() - w.t0
        # Whether any page job is unfinished: the first live entry of the partial index of
        # active jobs, not a count of them all (which cost 1-2 ms a probe, 50 times a second).
        s.wait_none("SELECT count(*) FROM (SELECT 1 FROM jobs WHERE job_type = 'page_scrape' "
                    "AND finished_at IS NULL LIMIT 1) unfinished", w.sample)
        w.close()
        stop_perf(perf)
        if PG_STATS:
            print_statement_stats(len(URLS))
        completed = int(s.sql.one("SELECT count(*) FROM jobs WHERE job_type = 'page_scrape' "
                                  "AND status = 'Completed' AND result_data IS NOT NULL"))
        emails = int(s.sql.one("SELECT count(DISTINCT e) FROM jobs, "
                               "jsonb_array_elements_text(result_data->'emails') e "
                               "WHERE job_type = 'page_scrape'"))
    finally:
        s.stop()
    if completed != len(URLS):
        sys.exit(f"only {completed} of {len(URLS)} page jobs completed")
    return {"pages": completed, "emails": emails, "wall": w.wall, "cpu": w.cpu, "pg_cpu": w.pg,
            "rss_mib": w.hwm_mib, "threads": w.threads, "submit_s": submitted,
            "others_pct": w.others_pct, **w.net}


def pg_processes():
    """The cluster's live processes: pid -> (kind, CPU seconds); a backend's kind is its
    database and client ("postgres bench_1 127.0.0.1(...)" without the state)."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                f = stat_fields(entry)
                if int(f[1]) == args.pg_pid:
                    with open(f"/proc/{entry}/cmdline") as c:
                        title = c.read().replace("\0", " ").strip()
                    kind = " ".join(title.split()[:3]) if "(" not in title else \
                        " ".join(title.split()[:3]) + " " + title.split()[3].split("(")[0]
                    out[entry] = (kind, (int(f[11]) + int(f[12])) / TICK)
            except (OSError, ValueError, IndexError):
                pass
    return out


pg_processes_before = {}


def print_statement_stats(pages):
    """The window's statements by total time (PG_STATS=1), per page, to stderr."""
    rows = subprocess.run(
        ["psql", "-X", "-q", "-h", "127.0.0.1", "-p", args.pg_port, "-U", "postgres", "-d",
         "postgres", "-c",
         f"SELECT calls, rows, round((total_exec_time + total_plan_time)::numeric * 1000 / {pages}, 1)"
         f" AS us_per_page, round(mean_exec_time::numeric * 1000, 1) AS exec_us,"
         " round(mean_plan_time::numeric * 1000, 1) AS plan_us, plans,"
         f" round((shared_blks_hit + shared_blks_read)::numeric / {pages}, 1)"
         f" AS blks_per_page, round(wal_bytes::numeric / {pages}) AS wal_b_per_page,"
         " left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query"
         " FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 25"],
        capture_output=True, text=True)
    print(rows.stdout + rows.stderr, file=sys.stderr)
    by_kind = {}
    for pid, (kind, cpu) in pg_processes().items():
        by_kind[kind] = by_kind.get(kind, 0) + cpu - pg_processes_before.get(pid, (kind, 0))[1]
    for kind, cpu in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"  {cpu * 1e6 / pages:8.1f} us/page  {kind}", file=sys.stderr)


def scrapersky_scans(settings, profile=None):
    """Creates the domains (their metadata jobs run and finish first, untimed), then times
    SCANS email scans from their submission until every one has finished."""
    s = Server(settings, ["80", "443"])
    try:
        names = [name for name, _ in hosts[:SCANS]]
        t = time.monotonic()
        domains = s.post("/api/v3/domains", {"domains": names})["domains"]
        s.wait_none("SELECT count(*) FROM domains WHERE status IN ('Queued', 'Processing')")
        metadata_s = time.monotonic() - t
        w = Window(s)
        perf = start_perf(s.proc.pid, profile)
        for d in domains:
            s.post("/api/v3/email-scan/scan/website", {"domain_id": d["id"]})
        s.wait_none("SELECT count(*) FROM jobs WHERE job_type = 'email_scan' "
                    "AND finished_at IS NULL", w.sample)
        w.close()
        stop_perf(perf)
        completed = int(s.sql.one("SELECT count(*) FROM jobs WHERE job_type = 'email_scan' "
                                  "AND status = 'Completed'"))
        pages = int(s.sql.one("SELECT coalesce(sum((result_data->>'pages_fetched')::int), 0) "
                              "FROM jobs WHERE job_type = 'email_scan'"))
        contacts = int(s.sql.one("SELECT count(*) FROM contacts"))
    finally:
        s.stop()
    if completed != len(names):
        sys.exit(f"only {completed} of {len(names)} email scans completed")
    return {"scans": completed, "pages": pages, "contacts": contacts, "wall": w.wall,
            "cpu": w.cpu, "pg_cpu": w.pg, "rss_mib": w.hwm_mib, "threads": w.threads,
            "metadata_s": metadata_s, "others_pct": w.others_pct, **w.net}


def wait4(argv, env=None):
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"{argv[0]} failed with status {status}")
    return (out.decode(), time.monotonic() - start, usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024)


def scrapy_pages():
    rotate_access_log()
    others = Others()
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        items, result = os.path.join(tmp, "items.jsonl"), os.path.join(tmp, "result.json")
        _, wall, cpu, rss = wait4(["/usr/bin/python3", os.path.join(HERE, "scrapy_pages.py"),
                                   URL_FILE, args.hosts, items, result, str(SCRAPY_CONCURRENCY),
                                   str(SCRAPY_PER_DOMAIN)])
        r = json.load(open(result))
        lines = sum(1 for _ in open(items))
    others_pct = others.pct()
    net = traffic(rotate_access_log())
    if r["pages"] != len(URLS) or lines != len(URLS):
        sys.exit(f"Scrapy fetched {r['pages']} pages and wrote {lines} items of {len(URLS)}")
    return {"pages": r["pages"], "emails": r["emails"], "wall": r["seconds"],
            "cpu": r["cpu_seconds"], "process_wall": wall, "process_cpu": cpu, "rss_mib": rss,
            "others_pct": others_pct, **net}


# --- the Node peers: spider-rs and Crawlee ----------------------------------------------------

def package_version(name):
    with open(os.path.join(args.node_modules, name, "package.json")) as f:
        return json.load(f)["version"]


def emails_only_variants(var):
    """VAR=1: emails only; VAR=0: the fields only (those scrapy_pages.py takes); unset: both."""
    return {"1": [True], "0": [False]}.get(os.environ.get(var, ""), [True, False])


NODE_PEERS = []
if SPIDER:
    # Each site is crawled by links, so the URL list must hold whole sites.
    if len(URLS) == len(hosts) * int(os.environ.get("PAGES", 50)):
        NODE_PEERS.append({
            "title": f"spider-rs {package_version('@spider-rs/spider-rs')}",
            "script": "spider_pages.js", "env": "SPIDER_SITES",
            "default": min(64, len(hosts)),
            "sweep": sorted({min(v, len(hosts)) for v in (16, 32, 128)}),
            "label": lambda n: f"{n} sites at once",
            "variants": emails_only_variants("SPIDER_EMAILS_ONLY")})
    else:
        log("spider-rs skipped: it crawls whole sites, and URLS leaves pages out")
if CRAWLEE:
    NODE_PEERS.append({
        "title": f"Crawlee {package_version('@crawlee/http')} HttpCrawler",
        "script": "crawlee_pages.js", "env": "CRAWLEE_CONCURRENCY", "default": 64,
        "sweep": [16, 256], "label": lambda n: f"concurrency {n}",
        "variants": emails_only_variants("CRAWLEE_EMAILS_ONLY")})

ETC_HOSTS = os.path.join(args.work, "etc-hosts")
if NODE_PEERS:
    # What the Node peers see as /etc/hosts: every site's name with its own address, then the
    # machine's lines.
    with open("/etc/hosts") as machine, open(ETC_HOSTS, "w") as f:
        f.write("".join(f"{addr} {name}\n" for name, addr in hosts) + machine.read())


def node_peer(peer, setting, emails_only):
    """One run of a Node peer. Both resolve names through the system's resolver, which reads
    /etc/hosts; each runs in a mount namespace of its own where ETC_HOSTS is mounted over it, so
    the machine's file is never changed. Wall and CPU time of the crawl window come from the
    script; the whole process's, and peak RSS, from wait4."""
    rotate_access_log()
    others = Others()
    env = dict(os.environ, NODE_PATH=args.node_modules, EMAILS_ONLY="1" if emails_only else "0")
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        items, result = os.path.join(tmp, "items.jsonl"), os.path.join(tmp, "result.json")
        _, wall, cpu, rss = wait4(
            ["unshare", "--mount", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"',
             ETC_HOSTS, args.node, os.path.join(HERE, peer["script"]), URL_FILE, items, result,
             str(setting)], env=env)
        r = json.load(open(result))
        lines = sum(1 for _ in open(items))
    others_pct = others.pct()
    net = traffic(rotate_access_log())
    if r["pages"] != len(URLS) or lines != len(URLS) or r.get("failed") or r.get("missing"):
        sys.exit(f"{peer['title']}: {r} with {lines} items, for {len(URLS)} URLs")
    return {"pages": r["pages"], "emails": r["emails"], "wall": r["seconds"],
            "cpu": r["cpu_seconds"], "process_wall": wall, "process_cpu": cpu, "rss_mib": rss,
            "others_pct": others_pct, "setting": setting, "emails_only": emails_only, **net}


def peer_sweep(peer):
    """One run per setting (the first variant measured), the default first; another setting is
    kept when it beats the best so far by more than 5 %, as in the server's sweep."""
    best, score, tried = peer["default"], 0.0, []
    for v in [peer["default"]] + [v for v in peer["sweep"] if v != peer["default"]]:
        r = node_peer(peer, v, peer["variants"][0])
        tried.append(r)
        log(f"  sweep {peer['title']}, {peer['label'](v)}: {pages_per_s(r):,.0f} pages/s, "
            f"{1000 * r['cpu'] / r['pages']:.3f} ms CPU/page")
        if pages_per_s(r) > 1.05 * score:
            best, score = v, pages_per_s(r)
    return best, tried


def library_crawl():
    """bench/scrape's crawler (fetcher and email extractor only) over the same sites, through
    their robots.txt and sitemaps, all names sent to nginx's 127.0.0.1 listener."""
    rotate_access_log()
    others = Others()
    sites = ",".join(f"{name}:{port}" for name, _ in hosts)
    out, wall, cpu, rss = wait4([args.crawl_bin, port, "64", "8", sites])
    r = json.loads(out.strip().splitlines()[-1])
    others_pct = others.pct()
    net = traffic(rotate_access_log())
    return {"pages": r["pages"], "emails": r["emails"], "wall": wall, "cpu": cpu, "rss_mib": rss,
            "others_pct": others_pct, **net}


# --- configurations -------------------------------------------------------------------------------

def label(settings):
    if not settings:
        return "defaults"
    short = {f"{PAGE_QUEUE}_MAX_INSTANCES": "instances", f"{PAGE_QUEUE}_BATCH_SIZE": "batch",
             f"{PAGE_QUEUE}_COMMIT_INTERVAL_MS": "commit ms",
             "FETCH_PER_HOST_CONNECTIONS": "per-host", "WORK_THREADS": "threads",
             "EMAIL_SCAN_SCHEDULER_MAX_INSTANCES": "scan instances"}
    return ", ".join(f"{short.get(k, k)} {v}" for k, v in settings.items())


def pages_per_s(r):
    return r["pages"] / r["wall"]


def sweep():
    """One run per setting, one variable at a time; a value is kept when it beats the best so
    far by more than 5 % (less is within a single run's noise here)."""
    best = {}
    tried = []

    def trial(settings):
        r = scrapersky_pages(settings)
        tried.append((dict(settings), r))
        log(f"  sweep {label(settings)}: {pages_per_s(r):,.0f} pages/s, "
            f"{1000 * r['cpu'] / r['pages']:.3f} ms CPU/page, {r['threads']} threads")
        return pages_per_s(r)

    axes = [(f"{PAGE_QUEUE}_MAX_INSTANCES", ["64", "256", "1024"]),
            (f"{PAGE_QUEUE}_BATCH_SIZE", ["100", "1000"]),
            (f"{PAGE_QUEUE}_COMMIT_INTERVAL_MS", ["50"]),
            ("FETCH_PER_HOST_CONNECTIONS", ["8", "16"]),
            ("WORK_THREADS", ["1", "4"])]
    score = trial({})
    for var, values in axes:
        for v in values:
            candidate = dict(best, **{var: v})
            s = trial(candidate)
            if s > 1.05 * score:
                score = s
                best = candidate
    return best, tried


def median(rs, key):
    return statistics.median(r[key] for r in rs)


def main():
    log(f"load before the measured runs: {loadavg():.2f}")
    load_start = loadavg()
    tried = []
    if BEST:
        best = dict(kv.split("=", 1) for kv in BEST.split(","))
    elif SWEEP:
        log("sweep (one run each)")
        best, tried = sweep()
    else:
        best = {f"{PAGE_QUEUE}_MAX_INSTANCES": "256", f"{PAGE_QUEUE}_BATCH_SIZE": "100"}
    log(f"best: {label(best)}")
    peer_tried = []
    for peer in NODE_PEERS:
        if os.environ.get(peer["env"]):
            peer["setting"] = int(os.environ[peer["env"]])
        elif SWEEP and PAGE_RUNS:
            log(f"sweep of {peer['title']} (one run each)")
            peer["setting"], tried_here = peer_sweep(peer)
            peer_tried += [(peer, r) for r in tried_here]
        else:
            peer["setting"] = peer["default"]
        log(f"{peer['title']}: {peer['label'](peer['setting'])}")

    systems = {"ScraperSky, defaults": lambda: scrapersky_pages({})}
    if COMPARE_BIN:
        systems[f"ScraperSky, defaults [{COMPARE_LABEL}]"] = \
            lambda: scrapersky_pages({}, binary=COMPARE_BIN)
    systems[f"ScraperSky, {label(best)}"] = lambda: scrapersky_pages(best)
    if COMPARE_BIN:
        systems[f"ScraperSky, {label(best)} [{COMPARE_LABEL}]"] = \
            lambda: scrapersky_pages(best, binary=COMPARE_BIN)
    if SCRAPY:
        systems["Scrapy 2.8"] = scrapy_pages
    for peer in NODE_PEERS:
        for emails_only in peer["variants"]:
            name = (f"{peer['title']}, {'emails only' if emails_only else 'fields'}, "
                    f"{peer['label'](peer['setting'])}")
            systems[name] = lambda p=peer, e=emails_only: node_peer(p, p["setting"], e)
    if args.crawl_bin:
        systems["library only (bench/scrape)"] = library_crawl
    runs = {k: [] for k in systems}
    for i in range(ROUNDS if PAGE_RUNS else 0):
        order = list(systems)
        if COMPARE_BIN and i % 2:
            # Every other round the compared build goes first in each pair: a run's place in the
            # round (what ran just before it) moved identical builds by up to 10 %.
            order[0:2], order[2:4] = order[1::-1], order[3:1:-1]
        for name in order:
            runs[name].append(systems[name]())
        log(f"round {i + 1}: " + ", ".join(f"{k} {pages_per_s(v[-1]):,.0f}/s"
                                           for k, v in runs.items()))

    scan_settings = {"defaults": {},
                     label(dict(best, EMAIL_SCAN_SCHEDULER_MAX_INSTANCES="100")):
                         dict(best, EMAIL_SCAN_SCHEDULER_MAX_INSTANCES="100")}
    scans = {k: [] for k in scan_settings}
    if SCANS:
        for i in range(SCAN_ROUNDS):
            for name, settings in scan_settings.items():
                scans[name].append(scrapersky_scans(settings))
            log(f"scan round {i + 1}: " + ", ".join(f"{k} {v[-1]['wall']:.2f} s"
                                                    for k, v in scans.items()))
    load_end = loadavg()
    if os.environ.get("PROFILE"):
        # One more run of the best settings, not counted, with the server sampled by perf; and
        # one more email scan run of the defaults.
        with open(os.environ["PROFILE"], "w") as out:
            for title, run, settings in (
                    ("page scrapes, " + label(best), scrapersky_pages, best),
                    ("email scans, defaults", scrapersky_scans, {}))[:2 if SCANS else 1]:
                data = os.path.join(args.work, "perf.data")
                run(settings, profile=data)
                out.write(f"######## {title}\n")
                # Self time by library, by function; then time inclusive of callees.
                for extra in (["--no-children", "--sort", "dso"],
                              ["--no-children", "--sort", "dso,symbol"],
                              ["--children", "--sort", "symbol"]):
                    out.write(subprocess.run(
                        ["perf", "report", "-i", data, "--stdio", "--percent-limit", "1", "-g",
                         "none"] + extra, capture_output=True, text=True).stdout)
                os.unlink(data)
        log(f"profiles of the server in {os.environ['PROFILE']}")

    if PAGE_RUNS:
        print_page_tables(runs, load_start, load_end)
    if SCANS:
        print_scan_table(scans)
    if tried:
        print_sweep(tried)
    if peer_tried:
        print_peer_sweep(peer_tried)
    if os.environ.get("RESULTS"):
        with open(os.environ["RESULTS"], "w") as f:
            json.dump({"urls": len(URLS), "sites": len(hosts), "best": best, "runs": runs,
                       "scans": scans, "sweep": tried,
                       "peer_sweep": [dict(r, peer=p["title"]) for p, r in peer_tried],
                       "load": [load_start, load_end]}, f, indent=1)


def print_page_tables(runs, load_start, load_end):
    print(f"## {len(URLS)} pages, {len(hosts)} sites; medians of {ROUNDS} interleaved rounds "
          f"(1-minute load {load_start:.2f} before, {load_end:.2f} after)\n")
    print("| system | pages | distinct emails | pages/s | CPU ms/page | PostgreSQL CPU ms/page "
          "| peak RSS MiB | threads (max) | TCP connections | others' CPU |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, rs in runs.items():
        pg = (f"{statistics.median(1000 * r['pg_cpu'] / r['pages'] for r in rs):.3f}"
              if "pg_cpu" in rs[0] else "-")
        threads = f"{median(rs, 'threads'):.0f}" if "threads" in rs[0] else "-"
        print(f"| {name} | {rs[0]['pages']} | {rs[0]['emails']} | "
              f"{statistics.median(pages_per_s(r) for r in rs):,.0f} | "
              f"{statistics.median(1000 * r['cpu'] / r['pages'] for r in rs):.3f} | {pg} | "
              f"{median(rs, 'rss_mib'):.0f} | {threads} | {median(rs, 'connections'):.0f} | "
              f"{max(r['others_pct'] for r in rs):.0f} % |")
    print("\nothers' CPU: the most CPU that processes outside the benchmark used during one of "
          "the rounds' windows, as a share of the whole machine (0 % when quiet).\n")
    for name, rs in runs.items():
        submit = (f" (the {-(-len(URLS) // 1000)} batch requests took "
                  f"{median(rs, 'submit_s'):.2f} s of it)" if "submit_s" in rs[0] else "")
        print(f"- {name}: " + ", ".join(f"{pages_per_s(r):,.0f}" for r in rs) + " pages/s, "
              f"median {median(rs, 'wall'):.2f} s{submit}")
    if SCRAPY:
        scrapy = runs["Scrapy 2.8"]
        sp, sc = (statistics.median(pages_per_s(r) for r in scrapy),
                  statistics.median(1000 * r["cpu"] / r["pages"] for r in scrapy))
        print(f"- Scrapy whole process (start to exit, imports included): "
              f"{statistics.median(r['pages'] / r['process_wall'] for r in scrapy):,.0f} "
              f"pages/s, "
              f"{statistics.median(1000 * r['process_cpu'] / r['pages'] for r in scrapy):.3f} "
              f"ms CPU/page")
        for name, rs in runs.items():
            if name.startswith("ScraperSky"):
                p = statistics.median(pages_per_s(r) for r in rs)
                c = statistics.median(1000 * r["cpu"] / r["pages"] for r in rs)
                cpg = statistics.median(1000 * (r["cpu"] + r["pg_cpu"]) / r["pages"] for r in rs)
                print(f"- {name} / Scrapy: {p / sp:.1f}x pages/s, {sc / c:.1f}x less CPU per "
                      f"page ({sc / cpg:.1f}x counting PostgreSQL's CPU too); targets "
                      f"(>= 10x, >= 10x, < 200 MB): "
                      f"{'met' if p / sp >= 10 else 'not met'}, "
                      f"{'met' if sc / c >= 10 else 'not met'}, "
                      f"{'met' if median(rs, 'rss_mib') < 200 else 'not met'}")
    sky = {name: rs for name, rs in runs.items() if name.startswith("ScraperSky")}
    for peer, prs in runs.items():
        if peer == "Scrapy 2.8" or "process_wall" not in prs[0]:
            continue
        print(f"- {peer}, whole process (start to exit, Node's startup included): "
              f"{statistics.median(r['pages'] / r['process_wall'] for r in prs):,.0f} pages/s, "
              f"{statistics.median(1000 * r['process_cpu'] / r['pages'] for r in prs):.3f} "
              f"ms CPU/page")
        pp, pc = (statistics.median(pages_per_s(r) for r in prs),
                  statistics.median(1000 * r["cpu"] / r["pages"] for r in prs))
        for name, rs in sky.items():
            p = statistics.median(pages_per_s(r) for r in rs)
            c = statistics.median(1000 * r["cpu"] / r["pages"] for r in rs)
            cpg = statistics.median(1000 * (r["cpu"] + r["pg_cpu"]) / r["pages"] for r in rs)
            print(f"  - {name} against it: {p / pp:.1f}x the pages/s, {pc / c:.1f}x less CPU "
                  f"per page ({pc / cpg:.1f}x counting PostgreSQL's CPU too)")


def print_scan_table(scans):
    print(f"\n## {SCANS} email scans (CRAWL_MAX_PAGES 10, CRAWL_MAX_DEPTH 2), medians of "
          f"{SCAN_ROUNDS} rounds\n")
    print("| settings | scans | pages fetched | requests to nginx | contacts | seconds | "
          "pages/s | CPU ms/page | PostgreSQL CPU ms/page | peak RSS MiB | threads (max) "
          "| TCP connections | others' CPU |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
          "| ---: | ---: |")
    for name, rs in scans.items():
        print(f"| {name} | {rs[0]['scans']} | {rs[0]['pages']} | {rs[0]['requests']} | "
              f"{rs[0]['contacts']} | {median(rs, 'wall'):.2f} | "
              f"{statistics.median(r['pages'] / r['wall'] for r in rs):,.0f} | "
              f"{statistics.median(1000 * r['cpu'] / r['pages'] for r in rs):.3f} | "
              f"{statistics.median(1000 * r['pg_cpu'] / r['pages'] for r in rs):.3f} | "
              f"{median(rs, 'rss_mib'):.0f} | {median(rs, 'threads'):.0f} | "
              f"{median(rs, 'connections'):.0f} | {max(r['others_pct'] for r in rs):.0f} % |")


def print_sweep(tried):
    print("\n## sweep (one run each, pages/s)\n")
    print("| settings | pages/s | CPU ms/page | PostgreSQL CPU ms/page | peak RSS MiB | "
          "threads (max) | TCP connections | others' CPU |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for settings, r in tried:
        print(f"| {label(settings)} | {pages_per_s(r):,.0f} | "
              f"{1000 * r['cpu'] / r['pages']:.3f} | {1000 * r['pg_cpu'] / r['pages']:.3f} | "
              f"{r['rss_mib']:.0f} | {r['threads']} | {r['connections']} | "
              f"{r['others_pct']:.0f} % |")


def print_peer_sweep(tried):
    print("\n## sweep of the Node peers (one run each, pages/s)\n")
    print("| peer | variant | setting | pages/s | CPU ms/page | peak RSS MiB | TCP connections "
          "| others' CPU |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for peer, r in tried:
        print(f"| {peer['title']} | {'emails only' if r['emails_only'] else 'fields'} | "
              f"{peer['label'](r['setting'])} | {pages_per_s(r):,.0f} | "
              f"{1000 * r['cpu'] / r['pages']:.3f} | {r['rss_mib']:.0f} | {r['connections']} | "
              f"{r['others_pct']:.0f} % |")


main()
admin.close()
