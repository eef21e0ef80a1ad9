// Operator controls over every queue: pause and resume, retry and cancel rows of any table.
#pragma once

#include "http/routes.hpp"

#include <set>
#include <string>

namespace sky::http {

std::vector<route> queue_control_routes(app_services& services);

// Names of the queues paused cluster-wide (read from the database).
std::set<std::string, std::less<>> paused_queues(app_services& services);

} // namespace sky::http
