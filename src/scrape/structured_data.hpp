// Contacts a site states in structured data: JSON-LD blocks (schema.org "email", "telephone",
// nested in "contactPoint", "@graph", "address"... at any depth) and microdata/RDFa property
// names ("email", "schema:telephone"). Values are returned as written; the email and phone
// extractors validate them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

struct structured_contacts {
  std::vector<std::string> emails;
  std::vector<std::string> phones;
  std::vector<std::string> links; // http(s) URLs of page data (social profiles among them)
};

enum class contact_property { none, email, telephone };

// "email", "schema:email", "http://schema.org/email" and a space-separated list holding one of
// them -> email; likewise for telephone. Anything else -> none.
contact_property contact_property_of(std::string_view names);

// Reads one JSON-LD block (comments and trailing commas tolerated; malformed JSON adds nothing).
// Adds at most `max_values` values in all to `out`; nesting deeper than 32 levels and more than
// 20,000 JSON values are not read.
void read_json_ld(std::string_view json, structured_contacts& out, std::size_t max_values);

// Page data of sites built by scripts, which a browser renders into what a person reads: the JSON
// of `<script type="application/json">` (Next.js's __NEXT_DATA__, and the like) and of objects
// scripts assign to window (script_assigned_json). Values under keys that name an email or a phone
// ("email", "contactEmail", "phone", "telefon", "mobile"; never "fax"), strings that are a whole
// address or a mailto:/tel: target, and http(s) URLs are taken; the bounds are those of
// read_json_ld, plus at most `max_values` links.
void read_page_data(std::string_view json, structured_contacts& out, std::size_t max_values);

// The JSON a script assigns to window, self or globalThis ("window.__INITIAL_STATE__ = {...}",
// "window['__NUXT__'] = {...}", "self.__DATA__ = JSON.parse('...')"), at most `max` values, each
// as written (object and array literals that are not JSON fail to parse later and add nothing).
std::vector<std::string> script_assigned_json(std::string_view script, std::size_t max = 16);

} // namespace sky::scrape
