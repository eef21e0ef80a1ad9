// libpsl lookups; the list is loaded once (system file when present, else libpsl's built-in copy).
#include "scrape/domain_rules.hpp"

#include "scrape/url_rules.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <libpsl.h>

namespace sky::scrape {
namespace {

const psl_ctx_t* suffix_list() {
  static const psl_ctx_t* ctx = [] {
    const psl_ctx_t* latest = psl_latest(nullptr);
    return latest ? latest : psl_builtin();
  }();
  return ctx;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  std::string h = host;
  if (!h.empty() && h.front() == '[')
    h = h.substr(1, h.size() - 2);
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

} // namespace

bool has_listed_suffix(std::string_view domain) {
  auto dot = domain.rfind('.');
  std::string tld(dot == std::string_view::npos ? domain : domain.substr(dot + 1));
  if (tld.empty())
    return false;
  return psl_is_public_suffix2(suffix_list(), tld.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) !=
         0;
}

std::optional<std::string> registrable_domain(std::string_view url_or_host) {
  std::string text(url_or_host);
  text.erase(0, text.find_first_not_of(" \t\r\n"));
  text.erase(text.find_last_not_of(" \t\r\n") + 1);
  if (text.empty())
    return std::nullopt;
  if (text.find("://") == std::string::npos)
    text = "http://" + text;
  auto url = parse_web_url(text);
  if (!url)
    return std::nullopt;
  std::string host = url->host;
  auto colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']') == std::string::npos)
    host = host.substr(0, colon);
  if (is_ip_literal(host))
    return std::nullopt;
  auto domain = normalize_domain(host);
  if (!domain)
    return std::nullopt;
  const char* reg = psl_registrable_domain(suffix_list(), domain->c_str());
  if (!reg)
    return std::nullopt;
  return std::string(reg);
}

} // namespace sky::scrape
