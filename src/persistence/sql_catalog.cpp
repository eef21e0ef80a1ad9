// Splits the embedded .sql files into migrations and named queries.
#include "persistence/sql_catalog.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace sky::persistence {
namespace {

std::map<std::string, std::string, std::less<>> parse_queries() {
  std::map<std::string, std::string, std::less<>> out;
  constexpr std::string_view k_header = "-- name:";
  for (const auto& file : embedded_sql_files()) {
    if (file.path.rfind("queries/", 0) != 0)
      continue;
    std::string current;
    std::size_t pos = 0;
    while (pos < file.text.size()) {
      auto end = file.text.find('\n', pos);
      if (end == std::string_view::npos)
        end = file.text.size();
      auto line = file.text.substr(pos, end - pos);
      if (line.rfind(k_header, 0) == 0) {
        auto name = line.substr(k_header.size());
        while (!name.empty() && (name.front() == ' ' || name.front() == '\t'))
          name.remove_prefix(1);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\r'))
          name.remove_suffix(1);
        current = std::string(name);
        if (!out.emplace(current, "").second)
          throw std::logic_error("duplicate query name " + current);
      } else if (!current.empty()) {
        out[current].append(line).append("\n");
      }
      pos = end + 1;
    }
  }
  return out;
}

} // namespace

std::vector<migration> migrations() {
  std::vector<migration> out;
  for (const auto& file : embedded_sql_files()) {
    constexpr std::string_view k_dir = "migrations/";
    if (file.path.rfind(k_dir, 0) != 0)
      continue;
    auto name = file.path.substr(k_dir.size());
    auto underscore = name.find('_');
    if (underscore == std::string_view::npos || underscore == 0 ||
        !std::all_of(name.begin(), name.begin() + underscore, ::isdigit))
      throw std::logic_error("migration file name must be NNN_name.sql: " + std::string(name));
    int version = std::stoi(std::string(name.substr(0, underscore)));
    out.push_back({version, std::string(name), file.text});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i].version == out[i - 1].version)
      throw std::logic_error("two migrations share version " + std::to_string(out[i].version));
  return out;
}

const std::string& query(std::string_view name) {
  static const auto queries = parse_queries();
  auto it = queries.find(name);
  if (it == queries.end())
    throw std::logic_error("no query named " + std::string(name));
  return it->second;
}

} // namespace sky::persistence
