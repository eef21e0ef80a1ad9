// Routes of the pipeline: submissions, curation and lists (see docs/api.md).
#pragma once

#include "http/routes.hpp"

namespace sky::http {

std::vector<route> workflow_routes(app_services& services);

} // namespace sky::http
