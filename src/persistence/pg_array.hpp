// PostgreSQL array literals for bound parameters (pqxx 6.4 has no array serializer).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sky::persistence {

// {"a","b \"quoted\"",NULL}: every element quoted and escaped, nullopt as NULL. The result is a
// parameter value, never spliced into SQL text.
std::string text_array(const std::vector<std::optional<std::string>>& items);
std::string text_array(const std::vector<std::string>& items);
std::string int_array(const std::vector<int>& items);
std::string double_array(const std::vector<double>& items);
std::string double_array(const std::vector<std::optional<double>>& items);
std::string int_array(const std::vector<std::optional<int>>& items);

} // namespace sky::persistence
