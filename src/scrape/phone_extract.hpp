// Phone numbers of a page via libphonenumber: tel: links first (the site says "this is a phone
// number"), then valid numbers found in the visible text. E.164, deduplicated.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

struct found_phone {
  std::string e164;   // "+15555550100"
  std::string source; // "tel" or "text"
};

// `region` (ISO 3166 alpha-2, e.g. "US", "DE") is assumed for numbers written without a country
// code. At most `max_numbers` results; text matching gives up after a bounded number of tries.
std::vector<found_phone> extract_phones(const std::vector<std::string>& tel_links,
                                        std::string_view visible_text, const std::string& region,
                                        std::size_t max_numbers = 20);

// A region guess from a page language ("de-AT" -> "AT", "de" -> "DE", "en" -> fallback).
std::string region_for_language(std::string_view language, const std::string& fallback);

} // namespace sky::scrape
