// Email extraction: normalise the page into plain-ish text, then scan around every '@'.
#include "scrape/email_extract.hpp"

#include "scrape/domain_rules.hpp"
#include "scrape/url_rules.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_set>

namespace sky::scrape {
namespace {

constexpr std::size_t k_max_local = 64;
constexpr std::size_t k_max_domain = 253;

void append_utf8(std::string& out, unsigned long cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_local_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '%' ||
         c == '+' || c == '-';
}

bool is_domain_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}

bool valid_domain(std::string_view d) {
  if (d.size() < 3 || d.size() > k_max_domain || d.find('.') == std::string_view::npos)
    return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (d[i] == '.') {
      if (label == 0 || d[i - 1] == '-')
        return false;
      label = 0;
    } else if (++label > 63 || (label == 1 && d[i] == '-')) {
      return false;
    }
  }
  auto tld = d.substr(d.rfind('.') + 1);
  return tld.size() >= 2 && std::all_of(tld.begin(), tld.end(), [](char c) {
           return std::isalpha(static_cast<unsigned char>(c));
         });
}

// Replaces `%XX` inside mailto: targets, so "mailto:info%40example.com" becomes visible.
std::string decode_mailto_targets(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (i + 7 <= text.size() && (text[i] == 'm' || text[i] == 'M')) {
      std::string head(text.substr(i, 7));
      std::transform(head.begin(), head.end(), head.begin(), ::tolower);
      if (head == "mailto:") {
        out += ' '; // the scheme must not glue onto the local part
        i += 7;
        // The address ends at a query, a quote, whitespace or a tag boundary.
        while (i < text.size() && text[i] != '?' && text[i] != '"' && text[i] != '\'' &&
               text[i] != '>' && text[i] != '<' &&
               !std::isspace(static_cast<unsigned char>(text[i]))) {
          int hi = 0, lo = 0;
          if (text[i] == '%' && i + 2 < text.size() && (hi = hex_digit_value(text[i + 1])) >= 0 &&
              (lo = hex_digit_value(text[i + 2])) >= 0) {
            out += static_cast<char>(hi * 16 + lo);
            i += 3;
          } else {
            out += text[i++];
          }
        }
        out += ' ';
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

// Appends the decoded addresses of every data-cfemail="..." and email-protection#... link.
void append_cloudflare(std::string_view html, std::string& out) {
  for (std::string_view marker : {"data-cfemail=\"", "email-protection#"}) {
    for (auto pos = html.find(marker); pos != std::string_view::npos;
         pos = html.find(marker, pos + 1)) {
      auto start = pos + marker.size();
      auto end = start;
      while (end < html.size() && hex_digit_value(html[end]) >= 0)
        ++end;
      auto decoded = decode_cfemail(html.substr(start, end - start));
      if (!decoded.empty())
        out += " " + decoded + " ";
    }
  }
}

} // namespace

std::string decode_html_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '&') {
      out += text[i++];
      continue;
    }
    auto semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      out += text[i++];
      continue;
    }
    auto name = text.substr(i + 1, semi - i - 1);
    if (!name.empty() && name[0] == '#') {
      unsigned long cp = 0;
      bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
      auto digits = name.substr(hex ? 2 : 1);
      bool ok = !digits.empty();
      for (char c : digits) {
        int v =
            hex ? hex_digit_value(c) : (std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : -1);
        if (v < 0) {
          ok = false;
          break;
        }
        cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(v);
      }
      if (ok) {
        append_utf8(out, cp);
        i = semi + 1;
        continue;
      }
    } else {
      static const std::pair<std::string_view, std::string_view> k_named[] = {
          {"amp", "&"},  {"lt", "<"},   {"gt", ">"},     {"quot", "\""},
          {"apos", "'"}, {"nbsp", " "}, {"commat", "@"}, {"period", "."}};
      bool found = false;
      for (const auto& [n, v] : k_named)
        if (name == n) {
          out += v;
          found = true;
          break;
        }
      if (found) {
        i = semi + 1;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

std::string decode_cfemail(std::string_view hex) {
  if (hex.size() < 4 || hex.size() % 2 != 0 || hex.size() > 2 * (k_max_local + k_max_domain + 2))
    return {};
  auto byte_at = [&](std::size_t i) {
    return hex_digit_value(hex[i]) * 16 + hex_digit_value(hex[i + 1]);
  };
  for (char c : hex)
    if (hex_digit_value(c) < 0)
      return {};
  int key = byte_at(0);
  std::string out;
  for (std::size_t i = 2; i < hex.size(); i += 2)
    out += static_cast<char>(byte_at(i) ^ key);
  return out;
}

std::string deobfuscate_at_dot(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    // Bracketed forms only ("[at]", "(at)", "{at}", "[dot]"...), with optional spaces around:
    // a bare " at " is ordinary English.
    char open = text[i];
    char close = open == '[' ? ']' : open == '(' ? ')' : open == '{' ? '}' : '\0';
    if (close) {
      auto end = text.find(close, i + 1);
      if (end != std::string_view::npos && end - i <= 6) {
        std::string word(text.substr(i + 1, end - i - 1));
        word.erase(std::remove(word.begin(), word.end(), ' '), word.end());
        std::transform(word.begin(), word.end(), word.begin(), ::tolower);
        if (word == "at" || word == "dot") {
          while (!out.empty() && out.back() == ' ')
            out.pop_back();
          out += word == "at" ? '@' : '.';
          i = end + 1;
          while (i < text.size() && text[i] == ' ')
            ++i;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

email_list extract_emails(std::string_view html, std::size_t max_addresses) {
  std::string text = decode_html_entities(html);
  text = decode_mailto_targets(text);
  text = deobfuscate_at_dot(text);
  append_cloudflare(html, text);

  email_list found;
  std::unordered_set<std::string> seen;
  // Repeats of a few addresses would otherwise make every '@' of a huge page a lookup.
  const std::size_t max_candidates = 100 * std::max<std::size_t>(max_addresses, 10);
  std::size_t candidates = 0;
  for (auto at = text.find('@'); at != std::string::npos; at = text.find('@', at + 1)) {
    if (++candidates > max_candidates) {
      found.truncated = true;
      break;
    }
    std::size_t begin = at;
    while (begin > 0 && at - begin < k_max_local && is_local_char(text[begin - 1]))
      --begin;
    std::size_t end = at + 1;
    while (end < text.size() && end - at <= k_max_domain && is_domain_char(text[end]))
      ++end;
    std::string local = text.substr(begin, at - begin);
    std::string domain = text.substr(at + 1, end - at - 1);
    while (!local.empty() && local.front() == '.')
      local.erase(0, 1);
    while (!domain.empty() && (domain.back() == '.' || domain.back() == '-'))
      domain.pop_back();
    if (local.empty() || local.back() == '.' || local.find("..") != std::string::npos)
      continue;
    std::transform(local.begin(), local.end(), local.begin(), ::tolower);
    std::transform(domain.begin(), domain.end(), domain.begin(), ::tolower);
    if (!valid_domain(domain) || !has_listed_suffix(domain))
      continue;
    auto email = local + "@" + domain;
    if (seen.count(email))
      continue;
    if (found.addresses.size() >= max_addresses) {
      found.truncated = true;
      break;
    }
    seen.insert(email);
    found.addresses.push_back(std::move(email));
  }
  return found;
}

} // namespace sky::scrape
