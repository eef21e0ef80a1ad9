// Array literal encoding.
#include "persistence/pg_array.hpp"

#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace sky::persistence {

namespace {

// Appends one quoted, escaped element.
void append_quoted(std::string& out, std::string_view item) {
  out += '"';
  for (char c : item) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  out += '"';
}

} // namespace

std::string text_array(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i)
      out += ',';
    if (items[i])
      append_quoted(out, *items[i]);
    else
      out += "NULL";
  }
  return out + "}";
}

// Ids, addresses and results of whole batches go through here: no copy of the elements.
std::string text_array(const std::vector<std::string>& items) {
  std::size_t size = 2;
  for (const auto& item : items)
    size += item.size() + 3;
  std::string out;
  out.reserve(size);
  out += '{';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i)
      out += ',';
    append_quoted(out, items[i]);
  }
  out += '}';
  return out;
}

void text_array_builder::add(std::string_view item) {
  if (count_++)
    out_ += ',';
  append_quoted(out_, item);
}

void text_array_builder::add_null() {
  if (count_++)
    out_ += ',';
  out_ += "NULL";
}

std::string text_array_builder::finish() {
  out_ += '}';
  count_ = 0;
  return std::exchange(out_, "{");
}

namespace {

template <class Integer> std::string integer_array(const std::vector<Integer>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i)
      out += ',';
    out += std::to_string(items[i]);
  }
  return out + "}";
}

} // namespace

std::string int_array(const std::vector<int>& items) {
  return integer_array(items);
}

std::string bigint_array(const std::vector<std::int64_t>& items) {
  return integer_array(items);
}

std::string double_array(const std::vector<double>& items) {
  std::string out = "{";
  char buf[64];
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%.6f", items[i]);
    out += (i ? "," : "");
    out += buf;
  }
  return out + "}";
}

std::string double_array(const std::vector<std::optional<double>>& items) {
  std::string out = "{";
  char buf[64];
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += (i ? "," : "");
    if (!items[i]) {
      out += "NULL";
      continue;
    }
    std::snprintf(buf, sizeof buf, "%.17g", *items[i]);
    out += buf;
  }
  return out + "}";
}

std::string int_array(const std::vector<std::optional<int>>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += (i ? "," : "");
    out += items[i] ? std::to_string(*items[i]) : "NULL";
  }
  return out + "}";
}

namespace {

// Network byte order, as every field of the binary format.
void append_be(std::string& out, std::uint64_t value, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8)
    out += static_cast<char>((value >> shift) & 0xff);
}

template <class Unsigned> Unsigned parse_unsigned(std::string_view text, std::string_view whole) {
  Unsigned value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty())
    throw std::invalid_argument("not a row address: " + std::string(whole));
  return value;
}

} // namespace

void binary_array_builder::add_uuid(std::string_view text) {
  expect(element::uuid);
  const bool hyphens = text.size() == 36;
  if (!hyphens && text.size() != 32)
    throw std::invalid_argument("not a uuid: " + std::string(text));
  char bytes[16];
  std::size_t at = 0;
  for (char& byte : bytes) {
    if (hyphens && (at == 8 || at == 13 || at == 18 || at == 23) && text[at++] != '-')
      throw std::invalid_argument("not a uuid: " + std::string(text));
    unsigned char value = 0;
    const char* digits = text.data() + at;
    auto [end, error] = std::from_chars(digits, digits + 2, value, 16);
    if (error != std::errc() || end != digits + 2)
      throw std::invalid_argument("not a uuid: " + std::string(text));
    byte = static_cast<char>(value);
    at += 2;
  }
  append_be(elements_, sizeof bytes, 4);
  elements_.append(bytes, sizeof bytes);
  ++count_;
}

void binary_array_builder::add_tid(std::string_view text) {
  expect(element::tid);
  const auto comma = text.find(',');
  if (text.size() < 5 || text.front() != '(' || text.back() != ')' ||
      comma == std::string_view::npos)
    throw std::invalid_argument("not a row address: " + std::string(text));
  const auto block = parse_unsigned<std::uint32_t>(text.substr(1, comma - 1), text);
  const auto offset =
      parse_unsigned<std::uint16_t>(text.substr(comma + 1, text.size() - comma - 2), text);
  append_be(elements_, 6, 4);
  append_be(elements_, block, 4);
  append_be(elements_, offset, 2);
  ++count_;
}

void binary_array_builder::add_int8(std::int64_t value) {
  expect(element::int8);
  append_be(elements_, 8, 4);
  append_be(elements_, static_cast<std::uint64_t>(value), 8);
  ++count_;
}

void binary_array_builder::expect(element type) const {
  if (type != type_)
    throw std::logic_error("an element of another type added to a binary array");
}

std::string binary_array_builder::finish() {
  std::string out;
  out.reserve(20 + elements_.size());
  // One dimension (none when empty), no NULLs, the element type; the dimension's length and
  // lower bound; then each element as its length and bytes.
  append_be(out, count_ ? 1 : 0, 4);
  append_be(out, 0, 4);
  append_be(out, static_cast<std::uint32_t>(type_), 4);
  if (count_) {
    append_be(out, count_, 4);
    append_be(out, 1, 4);
  }
  out += elements_;
  elements_.clear();
  count_ = 0;
  return out;
}

} // namespace sky::persistence
