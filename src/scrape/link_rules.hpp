// Which links of a page matter: pages likely to list contacts (for the email crawl) and the
// site's social profiles. Pure functions over absolute URLs.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

// Links on the same registrable domain as `site_url`, best contact candidates first (contact,
// kontakt, impressum, about, team, ... in the path), then the rest in page order; assets (images,
// archives, documents) and links seen before are left out. At most `limit` results.
std::vector<std::string> contact_crawl_order(const std::vector<std::string>& links,
                                             std::string_view site_url, std::size_t limit);

// Higher is more likely to list contact details; 0 for an ordinary page.
int contact_link_score(std::string_view url);

// network ("facebook", "instagram", "linkedin", "x", "youtube", "tiktok") -> first profile URL.
// Share, intent and tracking-pixel links are not profiles.
std::map<std::string, std::string> social_profiles(const std::vector<std::string>& links);

} // namespace sky::scrape
