// URL parsing with Boost.URL; rejects schemes other than http(s) and host-less URLs.
#include "scrape/url_rules.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace sky::scrape {

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::optional<web_url> parse_web_url(std::string_view text, std::size_t max_length) {
  if (text.empty() || text.size() > max_length)
    return std::nullopt;
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed)
    return std::nullopt;
  boost::urls::url url(*parsed);
  std::string scheme(url.scheme());
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
  if (scheme != "http" && scheme != "https")
    return std::nullopt;
  if (!url.has_authority() || url.encoded_host().empty() || url.has_userinfo())
    return std::nullopt;
  url.normalize_scheme();
  url.normalize_authority();
  std::string host(url.encoded_host());
  while (!host.empty() && host.back() == '.')
    host.pop_back();
  if (host.empty())
    return std::nullopt;
  url.remove_fragment();
  return web_url{scheme, host, std::string(url.buffer())};
}

std::optional<std::string> normalize_domain(std::string_view text) {
  std::string d(text);
  std::transform(d.begin(), d.end(), d.begin(), ::tolower);
  while (!d.empty() && d.back() == '.')
    d.pop_back();
  if (d.empty() || d.size() > 253 || d.find('.') == std::string::npos)
    return std::nullopt;
  std::size_t label = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    char c = d[i];
    if (c == '.') {
      if (label == 0 || d[i - 1] == '-')
        return std::nullopt;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (label == 0 && c == '-') || ++label > 63)
      return std::nullopt;
  }
  if (d.back() == '-')
    return std::nullopt;
  return d;
}

namespace {

// The HOST field of a HOST:PORT:CONNECT-HOST:CONNECT-PORT entry, lower-cased ("[::1]" whole).
std::string connect_to_host(std::string_view entry) {
  auto end = entry.starts_with('[') ? entry.find(']') : entry.find(':');
  if (end == std::string_view::npos)
    return {};
  if (entry.starts_with('['))
    ++end;
  std::string host(entry.substr(0, end));
  for (auto& c : host)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return host;
}

} // namespace

std::vector<std::string> connect_to_for_host(const std::vector<std::string>& entries,
                                             std::string_view host) {
  std::vector<std::string> own;
  for (const auto& entry : entries) {
    auto entry_host = connect_to_host(entry);
    if (entry_host.empty())
      return {};
    if (entry_host == host)
      own.push_back(entry);
  }
  if (own.empty())
    return {};
  own.insert(own.end(), entries.begin(), entries.end());
  return own;
}

std::vector<std::string> connect_to_hosts(const std::vector<std::string>& entries) {
  std::vector<std::string> hosts;
  for (const auto& entry : entries) {
    auto host = connect_to_host(entry);
    if (host.empty())
      return {};
    if (std::find(hosts.begin(), hosts.end(), host) == hosts.end())
      hosts.push_back(std::move(host));
  }
  return hosts;
}

} // namespace sky::scrape
