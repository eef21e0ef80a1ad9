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

// An array in PostgreSQL's binary format (what array_recv reads), for a parameter sent as binary
// (pqxx::binarystring): the server takes each element's bytes as they are instead of parsing its
// text. That matters for a batch's ids: parsing a text uuid[] of 500 ids costs the server about
// a quarter of a millisecond (bench/queue/bind_cost.py). Elements are added in their PostgreSQL
// text form (as a query returned them); one that is not of the array's type throws
// std::invalid_argument.
class binary_array_builder {
public:
  // The element types the batch statements take, by type OID.
  enum class element : std::uint32_t { int8 = 20, tid = 27, uuid = 2950 };

  explicit binary_array_builder(element type) : type_(type) {}
  // uuid: 32 hex digits, with or without the four hyphens of the canonical form.
  void add_uuid(std::string_view text);
  // tid: "(block,offset)".
  void add_tid(std::string_view text);
  void add_int8(std::int64_t value);
  bool empty() const { return count_ == 0; }
  // The array's bytes; the builder is empty afterwards.
  std::string finish();

private:
  void expect(element type) const;

  element type_;
  std::string elements_;
  std::uint32_t count_ = 0;
};

} // namespace sky::persistence
