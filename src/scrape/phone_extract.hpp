// Phone numbers of a page via libphonenumber: numbers the site states as such first (structured
// data, then tel: links), then valid numbers found in the visible text. E.164, deduplicated.
#pragma once

#include "scrape/page_limits.hpp"
#include "scrape/text_spans.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

struct found_phone {
  std::string e164;   // "+15555550100"
  std::string source; // "structured", "tel" or "text"
};

struct phone_list {
  std::vector<found_phone> numbers;
  bool truncated = false; // reading stopped at the cap
};

// `region` (ISO 3166 alpha-2, e.g. "US", "DE") is assumed for numbers written without a country
// code. Numbers in the text are skipped when the words just before them say they are something
// else (fax, order, invoice, IBAN, VAT... in the sites' languages) or when they are written as
// dates. Reading stops at the first new number past `max_numbers`; text matching also gives up
// after a bounded number of tries. The caller bounds `tel_links` and `structured`.
// Numbers inside `code_spans` of the text (page_metadata::code_spans: pre, code...) are read only
// where a phone label announces them.
phone_list extract_phones(const std::vector<std::string>& tel_links, std::string_view visible_text,
                          const std::string& region,
                          std::size_t max_numbers = page_limits{}.max_phones,
                          const std::vector<std::string>& structured = {},
                          const text_spans& code_spans = {});

// The same with libphonenumber's matcher run over the whole visible text rather than only around
// its digits (find_phone_windows): slower, the reference extract_phones is held to.
phone_list extract_phones_whole_text(const std::vector<std::string>& tel_links,
                                     std::string_view visible_text, const std::string& region,
                                     std::size_t max_numbers = page_limits{}.max_phones,
                                     const std::vector<std::string>& structured = {},
                                     const text_spans& code_spans = {});

// A region guess from a page language ("de-AT" -> "AT", "de" -> "DE", "en" -> fallback).
std::string region_for_language(std::string_view language, const std::string& fallback);

// The country of a host's country-code TLD ("shop.firma.de" -> "DE", "x.co.uk" -> "GB"); "" for
// generic TLDs and for ccTLDs sold as brands (.io, .co, .me, .tv...).
std::string region_for_host(std::string_view host);

// The region a page's numbers are read in: the region subtag of its language ("de-CH"), else
// the country of its host's ccTLD, else the main country of its language, else `fallback`.
std::string page_phone_region(std::string_view language, std::string_view host,
                              const std::string& fallback);

} // namespace sky::scrape
