// PostgreSQL array literals for bound parameters (pqxx 6.4 has no array serializer).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sky::persistence {

// {"a","b \"quoted\"",NULL}: every element quoted and escaped, nullopt as NULL. The result is a
// parameter value, never spliced into SQL text.
std::string text_array(const std::vector<std::optional<std::string>>& items);
std::string text_array(const std::vector<std::string>& items);
std::string int_array(const std::vector<int>& items);
std::string bigint_array(const std::vector<std::int64_t>& items);
std::string double_array(const std::vector<double>& items);
std::string double_array(const std::vector<std::optional<double>>& items);
std::string int_array(const std::vector<std::optional<int>>& items);

// Builds a text array element by element, for batches whose elements are fields of other
// structures: no vector of copies first.
class text_array_builder {
public:
  void add(std::string_view item);
  void add_null();
  bool empty() const { return count_ == 0; }
  std::string finish(); // the literal; the builder is empty afterwards

private:
  std::string out_ = "{";
  std::size_t count_ = 0;
};

} // namespace sky::persistence
