#!/usr/bin/python3
"""The console in a real browser (headless Chromium driven by Selenium) against a running server,
the fixture web and the fake Places API on loopback. Every wait is on a condition of the page.

browser_test.py --base URL --token T --wrong-token W --expired-token E --shots DIR
Exit status 0 when every step passed; a failing step names itself and leaves a screenshot."""
import argparse
import os
import re
import sys
import tempfile
import time
import traceback
from urllib.parse import quote_plus

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

args = argparse.ArgumentParser()
for a in ("--base", "--token", "--wrong-token", "--expired-token", "--shots"):
    args.add_argument(a, required=True)
args.add_argument("--chromium", default="/usr/bin/chromium")
args.add_argument("--chromedriver", default="/usr/bin/chromedriver")
args.add_argument("--timeout", type=float, default=90)
opt = args.parse_args()
os.makedirs(opt.shots, exist_ok=True)
stale = os.path.join(opt.shots, "console-failed.png")  # from an earlier failing run
if os.path.exists(stale):
    os.remove(stale)

profile = tempfile.mkdtemp(prefix="sky-chromium-")
options = webdriver.ChromeOptions()
options.binary_location = opt.chromium
for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--window-size=1280,900", f"--user-data-dir={profile}"):
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service(opt.chromedriver), options=options)
started = time.monotonic()


def wait(what, condition, timeout=None):
    """Waits until condition(driver) is truthy (stale elements mean: look again)."""
    def check(d):
        try:
            return condition(d)
        except StaleElementReferenceException:
            return False
    try:
        return WebDriverWait(driver, timeout or opt.timeout, poll_frequency=0.1).until(check)
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {what}") from None


def el(css):
    return wait(f"element {css}", lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None))


def click(css):
    """Clicks the element `css` names, found afresh when a redraw replaced it before the click."""
    def clicked(d):
        found = next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None)
        if found is None:
            return None
        found.click()
        return True
    return wait(f"a click on {css}", clicked)


def text_of(css):
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0].text if found else ""


def wait_text(css, pattern, timeout=None):
    return wait(f"{css} to match {pattern!r} (now {text_of(css)!r})",
                lambda d: re.search(pattern, text_of(css)), timeout)


def rows(table):
    return [r for r in driver.find_elements(By.CSS_SELECTOR, f"#{table}-table tbody tr[data-id]")]


def cell(row, col):
    return row.find_element(By.CSS_SELECTOR, f"td[data-col='{col}']").text


def wait_rows(table, n, what=""):
    return wait(f"{n} rows in {table} {what}(now {len(rows(table))})", lambda d: len(rows(table)) == n and rows(table))


def tab(name):
    el(f"#tab-{name}").click()
    wait(f"tab {name}", lambda d: d.find_element(By.ID, f"view-{name}").is_displayed())


def select_rows(table, predicate):
    chosen = 0
    for r in rows(table):
        if predicate(r):
            r.find_element(By.CSS_SELECTOR, "td.sel input").click()
            chosen += 1
    wait_text(f"#{table}-selected-count", f"^{chosen} selected")
    return chosen


def bulk(table, status):
    Select(el(f"#{table}-bulk-status")).select_by_visible_text(status)
    el(f"#{table}-bulk-apply").click()


def shows(table, fragment):
    """Waits until the rows shown are the server's answer to a query containing `fragment`."""
    wait(f"{table} to show {fragment}", lambda d: fragment in (
        el(f"#{table}-table").get_attribute("data-query") or ""))


def filter_by(table, name, value):
    Select(el(f"#{table}-filter-{name}")).select_by_visible_text(value)
    shows(table, f"{name}={quote_plus(value)}")


def shot(name):
    driver.save_screenshot(os.path.join(opt.shots, f"console-{name}.png"))


def labelled_controls():
    """Every visible control has a name a screen reader reads and a sighted user sees."""
    missing = driver.execute_script("""
      const out = [];
      for (const c of document.querySelectorAll('input, select, textarea, button, a[href]')) {
        if (!c.offsetParent) continue;
        const field = c.matches('input, select, textarea');
        const label = (c.labels && [...c.labels].map(l => l.textContent).join(' ')) ||
                      c.getAttribute('aria-label') || (field ? '' : c.textContent);
        if (!label || !label.trim()) out.push(c.outerHTML.slice(0, 80));
      }
      return out;""")
    assert not missing, f"controls without a label: {missing}"


def no_page_overflow():
    over = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert over <= 0, f"the page is {over}px wider than the window"


steps = []


def step(title):
    def run(fn):
        t = time.monotonic()
        try:
            fn()
        except Exception:
            shot("failed")
            print(f"FAIL {title}\n{traceback.format_exc()}", flush=True)
            print(f"page at failure: {driver.current_url}\n{driver.find_element(By.TAG_NAME, 'body').text[:3000]}")
            driver.quit()
            sys.exit(1)
        steps.append(title)
        print(f"ok   {title} ({time.monotonic() - t:.1f} s)", flush=True)
    return run


@step("a wrong token in the link is refused, and the fragment leaves the address bar")
def _():
    driver.get(f"{opt.base}/#token={opt.wrong_token}")
    wait_text("#signin-message", r"refused the token \(bad signature|refused the token")
    assert "token=" not in driver.current_url, driver.current_url
    assert driver.execute_script("return sessionStorage.getItem('scrapersky.token')") is None
    assert not el("#signin").get_attribute("hidden")
    labelled_controls()
    shot("signin")


@step("signing in by pasting a token, reaching the button by keyboard")
def _():
    box = el("#token-input")
    box.click()
    box.send_keys(opt.token)
    box.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("id") == "signin-button"
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    el("#tabs")
    wait("the queues", lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queues-table tbody tr")) == 9)
    assert driver.execute_script("return sessionStorage.getItem('scrapersky.token')") == opt.token


@step("a places search that the API keeps refusing ends in Error with its reason")
def _():
    tab("places")
    el("#places-business-type").send_keys("bakery")
    el("#places-location").send_keys("overloaded")
    el("#places-search-submit").click()
    wait_text("#places-search-status", r"Error — .*RESOURCE_EXHAUSTED")


@step("a places search lists its 25 staging rows, sorted and paged by the server")
def _():
    for css in ("#places-business-type", "#places-location"):
        el(css).clear()
    el("#places-business-type").send_keys("bakery")
    # Keyboard only: Enter in the last field submits the form.
    el("#places-location").send_keys("Springfield", Keys.ENTER)
    wait_text("#places-search-status", r"Completed — 25 places")
    wait_rows("places", 25)
    el("#places-sort-name").click()
    shows("places", "sort=name")
    wait("rows sorted by name", lambda d: [cell(r, "name") for r in rows("places")] ==
         sorted(cell(r, "name") for r in rows("places")) and
         el("#places-sort-name").text.endswith("▲"))
    Select(el("#places-page-size")).select_by_visible_text("10")
    wait_rows("places", 10)
    wait_text("#places-range", r"Rows 1–10")
    el("#places-next").click()
    wait_text("#places-range", r"Rows 11–20")
    el("#places-prev").click()
    Select(el("#places-page-size")).select_by_visible_text("25")
    wait_rows("places", 25)
    labelled_controls()


@step("three places selected for a deep scan become local businesses")
def _():
    n = select_rows("places", lambda r: re.search(r"-[012]$", cell(r, "place_id")))
    assert n == 3, n
    bulk("places", "Selected")
    wait_text("#places-status", r"3 set to Selected; 3 queued for deep_scan")
    filter_by("places", "deep_scan_status", "Completed")
    wait_rows("places", 3, "deep-scanned ")
    shot("places")
    tab("businesses")
    wait_rows("businesses", 3)


@step("the businesses selected for domain extraction give domains with homepage metadata")
def _():
    el("#businesses-select-all").click()
    wait_text("#businesses-selected-count", "^3 selected")
    bulk("businesses", "Selected")
    wait_text("#businesses-status", r"3 queued for domain_extraction")
    filter_by("businesses", "domain_extraction_status", "Completed")
    wait_rows("businesses", 3, "with a domain ")
    shot("businesses")
    tab("domains")
    filter_by("domains", "status", "Completed")
    wait_rows("domains", 3, "with metadata ")
    alpha = next(r for r in rows("domains") if cell(r, "domain") == "alpha-bakery.com")
    assert "hello@alpha-bakery.com" in cell(alpha, "emails"), cell(alpha, "emails")
    assert "WordPress" in cell(alpha, "tech_stack"), cell(alpha, "tech_stack")
    assert "facebook" in cell(alpha, "social_links"), cell(alpha, "social_links")


@step("sitemap curation of the domains discovers their sitemap files")
def _():
    el("#domains-select-all").click()
    bulk("domains", "Selected")
    wait_text("#domains-status", r"3 queued for sitemap_submission")
    filter_by("domains", "sitemap_analysis_status", "Completed")
    wait_rows("domains", 3, "analysed ")
    shot("domains")
    tab("sitemaps")
    wait_rows("sitemaps", 4)


@step("importing the urlset files fills the pages, paged by the server")
def _():
    n = select_rows("sitemaps", lambda r: cell(r, "sitemap_type") == "urlset")
    assert n == 3, n
    bulk("sitemaps", "Selected")
    wait_text("#sitemaps-status", r"3 queued for sitemap_import")
    filter_by("sitemaps", "sitemap_import_status", "Completed")
    wait_rows("sitemaps", 3, "imported ")
    shot("sitemaps")
    tab("pages")
    wait_rows("pages", 25)
    el("#pages-next").click()
    wait_text("#pages-range", r"Rows 26–35")
    assert not el("#pages-next").is_enabled()
    shot("pages")


@step("an email scan shows its progress and the contacts with the page each came from")
def _():
    tab("scans")
    el("#scan-domain").send_keys("alpha-bakery.com")
    el("#scan-submit").click()
    wait_text("#scan-status", r"alpha-bakery\.com: Completed, 100%")
    assert driver.find_element(By.ID, "scan-progress").get_attribute("value") == "1"
    wait("the contacts", lambda d: any(cell(r, "email") == "orders@alpha-bakery.com" and
                                       cell(r, "source_url") == "http://alpha-bakery.com/contact/"
                                       for r in rows("contacts")))
    wait("the scan in the list of scans", lambda d: len(rows("scans")) == 1)
    shot("scans")


@step("domains added from the console, and sitemaps discovered for them as a followed batch")
def _():
    tab("domains")
    el("#domains-add-names").send_keys("corner-dental.com\nbella-pizzeria.com")
    el("#domains-add-submit").click()
    wait_text("#domains-add-status", r"^2 domains \(\d+ new")
    el("#domains-discover-submit").click()
    wait_text("#domains-add-status", r"^Batch [0-9a-f-]{36}: 2 of 2 finished — Completed 2$")
    labelled_controls()


@step("one site's sitemaps scanned from the console")
def _():
    tab("sitemaps")
    el("#sitemap-single-url").send_keys("http://alpha-bakery.com/", Keys.ENTER)
    wait_text("#sitemap-single-status", r"^Job [0-9a-f-]{36}: Completed — [1-9][0-9]* sitemap file")
    wait("the site's sitemap files", lambda d: rows("sitemaps") and all(
        "alpha-bakery.com" in cell(r, "url") for r in rows("sitemaps")))


@step("pages scraped from the console, one and a batch")
def _():
    tab("pages")
    el("#page-scrape-url").send_keys("http://corner-dental.com/contact-us", Keys.ENTER)
    wait_text("#page-scrape-status", r"^Job [0-9a-f-]{36}: Completed — Contact Corner Dental, 2 email")
    el("#page-batch-urls").send_keys("http://alpha-bakery.com/contact/\nhttp://bella-pizzeria.com/")
    el("#page-batch-submit").click()
    wait_text("#page-scrape-status", r"^Batch [0-9a-f-]{36}: 2 of 2 finished — Completed 2$")
    labelled_controls()
    shot("forms")


@step("the failed search is shown with its reason in Jobs, and retried")
def _():
    tab("jobs")
    filter_by("jobs", "status", "Error")
    failed = wait_rows("jobs", 1, "in Error ")[0]
    assert "RESOURCE_EXHAUSTED" in cell(failed, "error"), cell(failed, "error")
    failed.find_element(By.CSS_SELECTOR, "button.open").click()
    wait_text("#job-error", "RESOURCE_EXHAUSTED")
    wait_text("#job-attempts", "^2$")
    finished = text_of("#job-finished")
    assert finished and finished != "–"
    labelled_controls()
    shot("jobs")
    el("#job-retry").click()
    wait_text("#job-action-status", "Queued again")
    # Run again from scratch: it fails again, at a later time.
    wait("the retried job to finish again", lambda d: text_of("#job-finished") not in ("", "–", finished))
    wait_text("#job-error", "RESOURCE_EXHAUSTED")


@step("the overview shows every queue's counts and the last hour's finishes")
def _():
    tab("overview")
    def queue(col):  # looked up afresh: the table is redrawn on every refresh
        return cell(el("#queues-table tr[data-queue='places_search']"), col)
    wait("places_search counts", lambda d: queue("completed") == "1" and queue("failed") == "1")
    assert queue("state") == "running", queue("state")
    wait_text("#chart-summary", r"Last hour: [1-9][0-9]* completed, [1-9][0-9]* failed")
    assert driver.find_elements(By.CSS_SELECTOR, "#throughput-chart svg rect.bar-done")
    shot("overview")


@step("an operator pauses and resumes a queue and retries all its errors from the overview")
def _():
    def queue(name, col):
        return cell(el(f"#queues-table tr[data-queue='{name}']"), col)
    click("#queue-page_scrape-pause")
    wait_text("#overview-status", "page_scrape paused on every node")
    wait("page_scrape paused", lambda d: queue("page_scrape", "state") == "paused")
    click("#queue-page_scrape-resume")
    wait("page_scrape running", lambda d: queue("page_scrape", "state") == "running")
    assert not driver.find_elements(By.ID, "queue-page_scrape-retry-errors")  # it has none
    click("#queue-places_search-retry-errors")
    wait_text("#overview-status", r"places_search: 1 row\(s\) in error queued again")
    labelled_controls()


@step("every tab is usable at 1024 px: labelled controls, no page-wide overflow")
def _():
    driver.set_window_size(1024, 800)
    for name in ("overview", "places", "businesses", "domains", "sitemaps", "pages", "scans", "jobs"):
        tab(name)
        labelled_controls()
        no_page_overflow()
    tab("domains")
    shot("domains-1024")
    driver.set_window_size(1280, 900)


@step("an expired token sends the user back to sign-in with the reason")
def _():
    driver.execute_script("sessionStorage.setItem('scrapersky.token', arguments[0])", opt.expired_token)
    el("#tab-jobs").click()  # its list's first call is refused
    wait_text("#signin-message", r"refused the token \(token expired\)")
    assert driver.execute_script("return sessionStorage.getItem('scrapersky.token')") is None
    assert not driver.find_element(By.ID, "tabs").is_displayed()


@step("the link with the token in its fragment signs in")
def _():
    driver.get(f"{opt.base}/#token={opt.token}")
    el("#queues-table tbody tr")
    assert "token=" not in driver.current_url, driver.current_url


driver.quit()
print(f"all {len(steps)} steps passed in {time.monotonic() - started:.1f} s")
