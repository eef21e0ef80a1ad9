// Extractor throughput in MB/s of HTML (Google Benchmark) over pages shaped like the crawl
// benchmark's: each extractor alone, and the whole page analysis the workflows run.
#include "process/library_init.hpp"
#include "scrape/charset.hpp"
#include "scrape/email_extract.hpp"
#include "scrape/page_analysis.hpp"
#include "scrape/page_metadata.hpp"
#include "scrape/phone_extract.hpp"
#include "scrape/sitemap.hpp"
#include "scrape/tech_stack.hpp"

#include <benchmark/benchmark.h>
#include <random>

namespace {

std::string make_page(int seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  const char* words[] = {"bakery", "fresh", "bread",   "sourdough", "pastry", "oven",
                         "order",  "local", "quality", "service",   "team",   "coffee"};
  std::string page = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Page "
                     "</title><meta name=\"description\" content=\"A bakery\"></head><body><nav>"
                     "<a href=\"/\">Home</a> <a href=\"/contact\">Contact</a> <a "
                     "href=\"https://www.facebook.com/acme\">fb</a></nav><p>Write to <a "
                     "href=\"mailto:info@acme-bakery.com\">info@acme-bakery.com</a>, call <a "
                     "href=\"tel:+12024561111\">(202) 456-1111</a>.</p>";
  while (page.size() < 15000) {
    page += "<p>";
    for (int i = 0; i < 60; ++i)
      page.append(words[rng() % 12]).append(" ");
    page += "</p>";
  }
  return page + "<footer>sales@acme-bakery.com</footer></body></html>";
}

const std::vector<std::string>& pages() {
  static const std::vector<std::string> p = [] {
    std::vector<std::string> out;
    for (int i = 0; i < 16; ++i)
      out.push_back(make_page(i));
    return out;
  }();
  return p;
}

// Pages as bench/scrape/gen_web.py writes them for the crawl benchmark: 11-20 KB of paragraphs,
// three addresses, no phone number, no technology signature.
std::string make_web_page(int seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  const char* words[] = {"bakery",  "fresh",    "bread",    "sourdough",    "pastry", "oven",
                         "morning", "delivery", "catering", "wedding",      "cake",   "order",
                         "local",   "family",   "quality",  "service",      "coffee", "organic",
                         "flour",   "seasonal", "team",     "neighbourhood"};
  auto paragraph = [&] {
    std::string p;
    for (auto n = 40 + rng() % 51; n > 0; --n)
      p.append(words[rng() % std::size(words)]).append(n > 1 ? " " : "");
    return p;
  };
  std::string host = "site" + std::to_string(seed % 50) + ".bench-bakery.com";
  auto target = 11000 + rng() % 9001;
  auto n = std::to_string(seed);
  std::string page = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                     host + " page " + n + "</title><meta name=\"description\" content=\"" +
                     paragraph().substr(0, 150) +
                     "\"><link rel=\"stylesheet\" href=\"/static/site.css\"></head><body><nav><a "
                     "href=\"/\">Home</a> <a href=\"/p/" +
                     n +
                     ".html\">Next</a> <a href=\"/contact\">Contact</a></nav><p>Write to <a "
                     "href=\"mailto:info@" +
                     host + "\">info@" + host + "</a> or sales" + n + "@" + host + ".</p>";
  while (page.size() < target - 200)
    page += "<p>" + paragraph() + "</p>";
  return page + "<footer>&copy; 2026 " + host + ", owner" + std::to_string(seed % 7) + "@" + host +
         "</footer></body></html>";
}

// More distinct pages than the phone matcher keeps windows of: read in a cycle, none of their
// windows is still known when its page comes round again, as in a crawl of many sites.
const std::vector<std::string>& web_pages() {
  static const std::vector<std::string> p = [] {
    std::vector<std::string> out;
    for (int i = 0; i < 512; ++i)
      out.push_back(make_web_page(i));
    return out;
  }();
  return p;
}

template <class F> void run(benchmark::State& state, F&& f) {
  std::size_t bytes = 0, i = 0;
  for (auto _ : state) {
    const auto& page = pages()[i++ % pages().size()];
    benchmark::DoNotOptimize(f(page));
    bytes += page.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void emails(benchmark::State& s) {
  run(s, [](const std::string& p) { return sky::scrape::extract_emails(p).addresses.size(); });
}
void metadata(benchmark::State& s) {
  run(s, [](const std::string& p) {
    return sky::scrape::extract_metadata(p, "https://example.com/").links.size();
  });
}
void decode(benchmark::State& s) {
  run(s, [](const std::string& p) {
    return sky::scrape::decode_to_utf8(p, "text/html; charset=utf-8").size();
  });
}
// Phone matching alone, over the visible text the metadata walk extracted (bytes counted are the
// page's, so the figure compares with the others).
void phones(benchmark::State& state) {
  static const std::vector<sky::scrape::page_metadata> metas = [] {
    std::vector<sky::scrape::page_metadata> out;
    for (const auto& p : pages())
      out.push_back(sky::scrape::extract_metadata(p, "https://example.com/"));
    return out;
  }();
  std::size_t bytes = 0, i = 0;
  for (auto _ : state) {
    const auto& m = metas[i % metas.size()];
    benchmark::DoNotOptimize(sky::scrape::extract_phones(m.tel_links, m.text, "US").numbers.size());
    bytes += pages()[i++ % pages().size()].size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
void tech(benchmark::State& s) {
  run(s, [](const std::string& p) { return sky::scrape::detect_tech_stack(p).size(); });
}
void full_analysis(benchmark::State& s) {
  run(s, [](const std::string& p) {
    return sky::scrape::analyze_page(p, "https://example.com/").emails.size();
  });
}
// The whole analysis of the crawl benchmark's pages. (The 16 pages above share their first
// paragraph, as a site's pages share a header: its phone number is matched once per thread.)
void full_analysis_web(benchmark::State& state) {
  std::size_t bytes = 0, i = 0;
  for (auto _ : state) {
    const auto& page = web_pages()[i++ % web_pages().size()];
    benchmark::DoNotOptimize(sky::scrape::analyze_page(page, "https://example.com/").emails.size());
    bytes += page.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
void sitemap(benchmark::State& state) {
  std::string xml = "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">";
  for (int i = 0; i < 10000; ++i)
    xml += "<url><loc>https://example.com/p/" + std::to_string(i) +
           ".html</loc><lastmod>2026-10-01</lastmod></url>";
  xml += "</urlset>";
  for (auto _ : state)
    benchmark::DoNotOptimize(sky::scrape::parse_sitemap(xml).urls.size());
  state.SetBytesProcessed(static_cast<std::int64_t>(xml.size() * state.iterations()));
}

BENCHMARK(emails);
BENCHMARK(metadata);
BENCHMARK(decode);
BENCHMARK(phones);
BENCHMARK(tech);
BENCHMARK(full_analysis);
BENCHMARK(full_analysis_web);
BENCHMARK(sitemap);

} // namespace

int main(int argc, char** argv) {
  sky::process::init_libraries();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
