// The queue table of docs/architecture.md, as data.
#include "config/queue_catalog.hpp"

#include <array>

namespace sky::config {
namespace {

constexpr std::array k_queues{
    queue_definition{"places_search", "PLACES_SEARCH_SCHEDULER", "jobs", "status", "task_status",
                     "Queued", "InProgress", "Completed", "Error", "places_search", "", 2,
                     "job_type,params,domain_id"},
    queue_definition{"deep_scan", "DEEP_SCAN_SCHEDULER", "places_staging", "deep_scan_status",
                     "gcp_api_deep_scan_status_enum", "Queued", "Processing", "Completed", "Error",
                     "", "", 4, "place_id"},
    queue_definition{"domain_extraction", "DOMAIN_EXTRACTION_SCHEDULER", "local_businesses",
                     "domain_extraction_status", "domain_extraction_status_enum", "Queued",
                     "Processing", "Completed", "Error", "", "", 4, "website_url"},
    queue_definition{"domain_metadata", "DOMAIN_SCHEDULER", "domains", "status",
                     "domain_extraction_status_enum", "Queued", "Processing", "Completed", "Error",
                     "", "metadata_", 8, "domain"},
    queue_definition{"sitemap_submission", "DOMAIN_SITEMAP_SUBMISSION_SCHEDULER", "domains",
                     "sitemap_analysis_status", "sitemap_analysis_status_enum", "Queued",
                     "Processing", "Completed", "Error", "", "sitemap_analysis_", 4, "domain"},
    queue_definition{"sitemap_jobs", "SITEMAP_SCHEDULER", "jobs", "status", "task_status", "Queued",
                     "InProgress", "Completed", "Error", "sitemap", "", 4,
                     "job_type,params,domain_id"},
    queue_definition{"sitemap_import", "SITEMAP_IMPORT_SCHEDULER", "sitemap_files",
                     "sitemap_import_status", "sitemap_import_status_enum", "Queued", "Processing",
                     "Completed", "Error", "", "", 4, "url,domain_id"},
    queue_definition{"email_scan", "EMAIL_SCAN_SCHEDULER", "jobs", "status", "task_status",
                     "Queued", "InProgress", "Completed", "Error", "email_scan", "", 4,
                     "job_type,params,domain_id"},
    queue_definition{"page_scrape", "PAGE_SCRAPE_SCHEDULER", "jobs", "status", "task_status",
                     "Queued", "InProgress", "Completed", "Error", "page_scrape", "", 8,
                     "job_type,params,domain_id"},
};

} // namespace

std::span<const queue_definition> queue_definitions() {
  return k_queues;
}

const queue_definition* find_queue_definition(std::string_view name) {
  for (const auto& q : k_queues)
    if (q.name == name)
      return &q;
  return nullptr;
}

} // namespace sky::config
