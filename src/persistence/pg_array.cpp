// Array literal encoding.
#include "persistence/pg_array.hpp"

#include <cstdio>
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

} // namespace sky::persistence
