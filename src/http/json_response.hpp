// JSON answers shared by every route table.
#pragma once

#include "http/router.hpp"

namespace boost::json {
class value;
}

namespace sky::http {

// `body` serialized with the given status.
api_response json_ok(int status, const boost::json::value& body);

} // namespace sky::http
