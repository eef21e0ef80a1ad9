// Phone numbers of a page via libphonenumber: tel: links first (the site says "this is a phone
// number"), then valid numbers found in the visible text. E.164, deduplicated.
#pragma once

#include "scrape/page_limits.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

struct found_phone {
  std::string e164;   // "+15555550100"
  std::string source; // "tel" or "text"
};

struct phone_list {
  std::vector<found_phone> numbers;
  bool truncated = false; // reading stopped at the cap
};

// `region` (ISO 3166 alpha-2, e.g. "US", "DE") is assumed for numbers written without a country
// code. Reading stops at the first new number past `max_numbers`; text matching also gives up
// after a bounded number of tries. The caller bounds `tel_links` (page_limits::max_tel_links).
phone_list extract_phones(const std::vector<std::string>& tel_links, std::string_view visible_text,
                          const std::string& region,
                          std::size_t max_numbers = page_limits{}.max_phones);

// A region guess from a page language ("de-AT" -> "AT", "de" -> "DE", "en" -> fallback).
std::string region_for_language(std::string_view language, const std::string& fallback);

} // namespace sky::scrape
