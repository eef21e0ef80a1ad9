// Sitemaps (sitemaps.org): urlset and sitemapindex documents, plain-text URL lists and gzip.
// Parsing is bounded: no DTDs or entities, no network, at most max_urls entries and max_bytes
// of (decompressed) input, so XML and gzip bombs fail fast in bounded memory.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

struct sitemap_limits {
  std::size_t max_urls = 50'000;    // per file, as the protocol allows
  std::size_t max_bytes = 50 << 20; // per file after decompression
};

struct sitemap_url {
  std::string loc;
  std::string lastmod;
  std::string changefreq;
  std::optional<double> priority;
};

struct sitemap_document {
  enum class kind { urlset, index, text, invalid };
  kind type = kind::invalid;
  std::vector<sitemap_url> urls;     // urlset / text
  std::vector<std::string> sitemaps; // index
  bool truncated = false;            // stopped at max_urls
  std::string error;                 // set when type is invalid
  bool transient = false;            // the error may go away (network, 5xx, 429): try later

  std::string_view type_name() const;
};

// `body` may be gzip-compressed (detected by its magic bytes, not the file name).
sitemap_document parse_sitemap(std::string_view body, const sitemap_limits& limits = {});

// Inflates gzip or zlib data; nullopt with `error` set when it is corrupt or would exceed
// `max_bytes`. Stops as soon as the cap is crossed.
std::optional<std::string> gunzip_capped(std::string_view data, std::size_t max_bytes,
                                         std::string& error);

bool looks_gzipped(std::string_view data);

} // namespace sky::scrape
