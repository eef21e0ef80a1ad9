// The same metadata read through libxml2's recovering HTML parser instead of html_tokenizer: the
// reference the tokenizer is held to (tests/scrape/html_tokenizer_test.cpp, the fuzz target).
#pragma once

#include "scrape/page_metadata.hpp"

namespace sky::scrape {

page_metadata extract_metadata_libxml2(std::string_view html, std::string_view page_url,
                                       const page_limits& limits = {});

} // namespace sky::scrape
