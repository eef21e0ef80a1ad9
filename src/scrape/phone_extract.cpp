// libphonenumber does the parsing and validation; this file only decides what to feed it.
#include "scrape/phone_extract.hpp"

#include "scrape/text_rules.hpp"

#include <algorithm>
#include <phonenumbers/phonenumbermatch.h>
#include <phonenumbers/phonenumbermatcher.h>
#include <phonenumbers/phonenumberutil.h>
#include <set>

namespace sky::scrape {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberMatch;
using i18n::phonenumbers::PhoneNumberMatcher;
using i18n::phonenumbers::PhoneNumberUtil;

} // namespace

phone_list extract_phones(const std::vector<std::string>& tel_links, std::string_view visible_text,
                          const std::string& region, std::size_t max_numbers) {
  const auto& util = *PhoneNumberUtil::GetInstance();
  phone_list out;
  std::set<std::string, std::less<>> seen;
  auto add = [&](const PhoneNumber& number, const char* source) {
    if (!util.IsValidNumber(number))
      return;
    std::string e164;
    util.Format(number, PhoneNumberUtil::E164, &e164);
    if (seen.count(e164))
      return;
    if (out.numbers.size() >= max_numbers) {
      out.truncated = true;
      return;
    }
    seen.insert(e164);
    out.numbers.push_back({std::move(e164), source});
  };
  for (const auto& link : tel_links) {
    if (out.truncated)
      return out;
    auto text = percent_decode(link.substr(0, link.find_first_of("?;")));
    PhoneNumber number;
    if (text.size() <= 64 && util.Parse(text, region, &number) == PhoneNumberUtil::NO_PARSING_ERROR)
      add(number, "tel");
  }
  // VALID leniency and a bounded number of tries keep loose text fast and its matches plausible.
  PhoneNumberMatcher matcher(util, std::string(visible_text), region, PhoneNumberMatcher::VALID,
                             200);
  PhoneNumberMatch match;
  while (!out.truncated && matcher.HasNext() && matcher.Next(&match))
    add(match.number(), "text");
  return out;
}

std::string region_for_language(std::string_view language, const std::string& fallback) {
  auto dash = language.find_first_of("-_");
  std::string region;
  if (dash != std::string_view::npos && language.size() - dash - 1 == 2) {
    region = std::string(language.substr(dash + 1));
  } else if (language.size() >= 2) {
    // Languages whose main country is unambiguous; English, Spanish and others are not.
    static const std::pair<std::string_view, std::string_view> k_countries[] = {
        {"de", "DE"}, {"fr", "FR"}, {"it", "IT"}, {"nl", "NL"}, {"pl", "PL"}, {"ja", "JP"},
        {"da", "DK"}, {"sv", "SE"}, {"fi", "FI"}, {"cs", "CZ"}, {"el", "GR"}, {"hu", "HU"}};
    auto lang = language.substr(0, 2);
    for (const auto& [code, country] : k_countries)
      if (lang == code)
        region = country;
  }
  std::transform(region.begin(), region.end(), region.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (region.empty() || !PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(region))
    return fallback;
  return region;
}

} // namespace sky::scrape
