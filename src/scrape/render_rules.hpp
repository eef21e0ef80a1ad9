// When a page read over HTTP could hide contacts that a browser would show: the rules of the
// rendering tier's `auto` mode, as pure functions of the page and what the static read found.
#pragma once

#include "scrape/page_analysis.hpp"

#include <string_view>

namespace sky::scrape {

enum class render_mode { off, auto_, always };
// "off" | "auto" | "always"; anything else reads as off.
render_mode render_mode_of(std::string_view text);
std::string_view to_string(render_mode mode);

// Why the page should be rendered, or "" when its HTML says all a visitor sees:
// - "always": the mode says so;
// - nothing is rendered in auto mode unless the page runs scripts of its own (inline code, or
//   script files); a page without them shows exactly its HTML;
// - "scripts_write_markup": an inline script writes markup or text into the document
//   (document.write, innerHTML, insertAdjacentHTML, textContent, createTextNode...), the classic
//   way small-business sites assemble an address out of reach of harvesters;
// - "app_shell": the visible text is shorter than k_app_shell_text bytes: a JavaScript
//   application sends an empty shell and builds the page in the browser;
// - "scripts_name_contacts": no email was found, and a script names contact fields (email,
//   mail, phone, contact...): the address is likely in code the static read cannot run.
std::string_view render_reason(std::string_view html, const page_analysis& page, render_mode mode);

inline constexpr std::size_t k_app_shell_text = 200;

// Adds what the rendered page shows and the static read missed: emails, phones, links (with
// their texts), social profiles and technologies, each once, after what was already found.
void merge_rendered(page_analysis& page, page_analysis rendered);

} // namespace sky::scrape
