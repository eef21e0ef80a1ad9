// Routes of the pipeline: submissions, curation and lists (see docs/api.md).
#pragma once

#include "http/routes.hpp"

namespace sky::http {

std::vector<route> workflow_routes(app_services& services);

// The SQL of a list route (e.g. "/api/v3/pages") for a sort ("created_at:desc"): $1..$3 the
// filters in the spec's order (NULL: not filtered), $4 limit, $5 offset, $6 the answer's byte cap.
// For tests of its plans; "" for an unknown path.
std::string list_query(std::string_view path, std::string_view sort);

} // namespace sky::http
