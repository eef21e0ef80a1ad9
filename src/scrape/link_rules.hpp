// Which links of a page matter: pages likely to list contacts (for the email crawl) and the
// site's social profiles. Pure functions over absolute URLs.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

// Links on the same registrable domain as `site_url`, best contact candidates first (by
// contact_link_score of the URL and of the link's text, `link_texts[i]` for `links[i]` when
// given), then the rest in page order; assets (images, archives, documents) and links seen
// before are left out. At most `limit` results.
std::vector<std::string> contact_crawl_order(const std::vector<std::string>& links,
                                             std::string_view site_url, std::size_t limit,
                                             const std::vector<std::string>& link_texts = {});

struct ranked_link {
  std::string url;
  int score = 0; // contact_link_score of the URL and its text
};

// contact_crawl_order with the score of each link.
std::vector<ranked_link> rank_contact_links(const std::vector<std::string>& links,
                                            std::string_view site_url, std::size_t limit,
                                            const std::vector<std::string>& link_texts = {});

// Higher is more likely to list contact details; 0 for an ordinary page. Contact, legal, about
// and team pages are known by their names in the main European languages (contact, kontakt,
// contacto, contatti, nous contacter, impressum, imprint, mentions légales, aviso legal, about,
// über uns, qui sommes-nous, chi siamo, over ons, om oss, team, équipe...), in the URL's path
// (percent-encoded or not) or in the link's text.
int contact_link_score(std::string_view url, std::string_view link_text = {});

// network ("facebook", "instagram", "linkedin", "x", "youtube", "tiktok") -> first profile URL.
// Share, intent and tracking-pixel links are not profiles.
std::map<std::string, std::string> social_profiles(const std::vector<std::string>& links);

} // namespace sky::scrape
