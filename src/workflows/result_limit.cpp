// Shrinks an oversized result by cutting its biggest members first: the long lists (addresses,
// contacts, pages) are what grows on a hostile site, and their first elements are the ones kept.
#include "workflows/result_limit.hpp"

#include <boost/json.hpp>

namespace sky::workflows {
namespace {

namespace json = boost::json;

constexpr std::string_view k_limits_key = "limits_hit";
constexpr std::string_view k_cut_key = "result_data_cut";

std::size_t serialized_size(const json::value& v) {
  return json::serialize(v).size();
}

void append_unique(json::object& o, std::string_view key, std::string_view name) {
  auto* slot = o.if_contains(key);
  if (!slot || !slot->is_array())
    slot = &(o[key] = json::array{});
  auto& list = slot->as_array();
  for (const auto& v : list)
    if (v.is_string() && v.as_string() == name)
      return;
  list.push_back(json::string(name));
}

std::string stub(std::size_t original_size) {
  return json::serialize(
      json::object{{k_limits_key, json::array{"result_data"}}, {"result_bytes", original_size}});
}

} // namespace

std::string fit_result_json(std::string result_json, std::size_t max_bytes) {
  if (result_json.size() <= max_bytes)
    return result_json;
  const auto original_size = result_json.size();
  boost::system::error_code ec;
  auto parsed = json::parse(result_json, ec);
  std::string().swap(result_json);
  if (ec || !parsed.is_object())
    return stub(original_size);
  auto& o = parsed.as_object();
  append_unique(o, k_limits_key, "result_data");
  // Each round cuts the biggest member still holding something, so the loop ends after at most
  // one round per member.
  for (std::size_t round = 0; round <= o.size(); ++round) {
    auto size = serialized_size(parsed);
    if (size <= max_bytes)
      return json::serialize(parsed);
    std::string_view biggest;
    std::size_t biggest_size = 0;
    for (const auto& member : o) {
      const auto& value = member.value();
      if (member.key() == k_limits_key || member.key() == k_cut_key || value.is_null() ||
          (value.is_array() && value.as_array().empty()))
        continue;
      auto member_size = serialized_size(value);
      if (member_size > biggest_size) {
        biggest = member.key();
        biggest_size = member_size;
      }
    }
    if (biggest.empty())
      break;
    std::string name(biggest);
    auto& member = o.at(name);
    auto excess = size - max_bytes + 64; // room for naming the member in result_data_cut
    if (member.is_array()) {
      auto& list = member.as_array();
      std::size_t dropped = 0;
      while (!list.empty() && dropped < excess) {
        dropped += serialized_size(list.back()) + 1; // the element and its comma
        list.pop_back();
      }
    } else {
      member = nullptr;
    }
    append_unique(o, k_cut_key, name);
  }
  auto fitted = json::serialize(parsed);
  return fitted.size() <= max_bytes ? fitted : stub(original_size);
}

} // namespace sky::workflows
