// Email addresses of a page, read where a person reads them: the visible text (with "[at]",
// "(punkt)", "arroba"... spelled out), mailto: links, Cloudflare's data-cfemail and structured
// data. Scripts, styles, comments and ordinary attributes are never read, so image names, font
// parameters, tracker keys and form placeholders do not turn into addresses.
#pragma once

#include "scrape/page_limits.hpp"
#include "scrape/page_metadata.hpp"
#include "scrape/text_spans.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

struct email_list {
  std::vector<std::string> addresses;
  bool truncated = false; // reading stopped at the cap
};

// Lower-cased, deduplicated: structured data first, then mailto: links, Cloudflare-protected
// addresses and the visible text, each in page order. Reading stops at the first new address past
// `max_addresses`, or after 100 candidates per address allowed.
// `page_url` names the page's own domain: an address on it may be spelled out with bare words.
email_list extract_emails(const page_metadata& page,
                          std::size_t max_addresses = page_limits{}.max_emails,
                          std::string_view page_url = {});

// The same for raw HTML (walks it with extract_metadata first).
email_list extract_emails(std::string_view html,
                          std::size_t max_addresses = page_limits{}.max_emails);

// What the text around an address is known to be.
struct text_email_context {
  std::string_view page_domain; // the registrable domain of the page the text is from
  bool stated_as_email = false; // the text is a value stated to be an email (structured data)
  // Where the text holds blocks of code (page_metadata::listing_spans: sorted [begin, end)).
  std::span<const byte_range> listing_spans = {};
  // Where the text holds inline code (page_metadata::code_spans, listings included).
  std::span<const byte_range> code_spans = {};
  // Where the text is a placeholder (page_metadata::variable_spans).
  std::span<const byte_range> variable_spans = {};
  // Addresses the page gives as mailboxes elsewhere (mailto: links, structured data).
  std::span<const std::string> linked_addresses = {};
};

// Addresses written in plain text, in order, possibly repeated: "info@firma.de", "jane [at] acme
// [dot] com", "info (at) firma (punkt) de", "INFO ARROBA empresa PUNTO es", "biuro [małpa] firma
// [kropka] pl"... The words for "@" and "." of each language are the rows of
// spelled_address_words.cpp. Spelled-out forms count only where they make a valid address on a
// listed public suffix, and only with a marker a reader sees: brackets, or capitals that stand
// out from the address. Bare lower-case words ("ventas arroba empresa punto es") are also
// ordinary words ("stop at any point in"), so they count only on the page's own domain, after an
// address label ("E-Mail:", "Courriel :") or in a value stated to be an email; the bare words
// " at " and " chez " also need a spelled-out dot.
// In a block of code (`context.listing_spans`), an address is sample data (a row of an alias or
// access table, a doctest's output) unless it is written as a mailbox: "Name <addr>", "(addr)",
// "addr Full Name", after "mailto:", after an address label, or as the value of a field named for
// one
// (`email = "..."`, `'author_email': '...'`, `To: ...`), or "addr (Full Name)". An address a page
// uses as sample data is sample data everywhere on that page, prose included, and so is an
// address in inline code on the domain of one (`jean@host.example-corp.com` in a sentence about
// the sample's configuration), unless the page gives a mailbox on that domain (a link, a
// mailbox form, `context.linked_addresses`). A page that is one preformatted document (a plain-text
// file shown as HTML) is read as prose. An address with a placeholder in it
// (`<var>ll</var>@li.org`) is none. At most `max_candidates` candidates are examined.
std::vector<std::string> find_text_emails(std::string_view text, std::size_t max_candidates = 2000,
                                          const text_email_context& context = {});

// One written address ("Info@Firma.DE.", "mailto:info%40firma.de?subject=x") normalised, or
// nullopt when it is not one a person can write to: invalid syntax, a domain without a listed
// public suffix, a reserved or placeholder domain (example.com, *.test, yourdomain.com...), an
// image density name ("logo@2x.png"), a version ("pkg@1.2.3") or a tracker key.
std::optional<std::string> normalize_email(std::string_view written);

// True for example.com/.net/.org and their subdomains and for the special-use TLDs .test,
// .example, .invalid and .localhost (RFC 2606, RFC 6761).
bool is_reserved_domain(std::string_view domain);

// Pieces, exposed for tests and fuzzing.
std::string decode_cfemail(std::string_view hex); // "" when malformed

} // namespace sky::scrape
