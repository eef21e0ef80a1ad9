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
};

enum class contact_property { none, email, telephone };

// "email", "schema:email", "http://schema.org/email" and a space-separated list holding one of
// them -> email; likewise for telephone. Anything else -> none.
contact_property contact_property_of(std::string_view names);

// Reads one JSON-LD block (comments and trailing commas tolerated; malformed JSON adds nothing).
// Adds at most `max_values` values in all to `out`; nesting deeper than 32 levels and more than
// 20,000 JSON values are not read.
void read_json_ld(std::string_view json, structured_contacts& out, std::size_t max_values);

} // namespace sky::scrape
