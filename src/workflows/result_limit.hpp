// The size cap of a stored result (a job's result_data, a domain's metadata).
#pragma once

#include <cstddef>
#include <string>

namespace sky::workflows {

// `result_json` as is when it fits in `max_bytes`. Otherwise its largest top-level members are cut
// (arrays lose their last elements, other values become null) until it fits; "result_data" is
// added to its "limits_hit" array and the cut members are named in "result_data_cut". What cannot
// be cut that way (not a JSON object, or too little left) becomes {"limits_hit":["result_data"],
// "result_bytes":<original size>}.
std::string fit_result_json(std::string result_json, std::size_t max_bytes);

} // namespace sky::workflows
