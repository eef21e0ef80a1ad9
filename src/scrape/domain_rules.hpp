// Registrable domains (eTLD+1) from URLs and host names, via the public suffix list (libpsl).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sky::scrape {

// "https://www.shop.example.co.uk/x" -> "example.co.uk"; accepts a bare host or a URL without a
// scheme ("www.example.com/contact"). nullopt for IP addresses, public suffixes and junk.
std::optional<std::string> registrable_domain(std::string_view url_or_host);

// True when the last label of `domain` is a suffix listed in the public suffix list (".com",
// ".uk"), not merely accepted by its "*" fallback: "2x.png" is not a mail domain.
bool has_listed_suffix(std::string_view domain);

} // namespace sky::scrape
