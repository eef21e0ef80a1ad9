// Array literal encoding.
#include "persistence/pg_array.hpp"

#include <cstdio>

namespace sky::persistence {

std::string text_array(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i)
      out += ',';
    if (!items[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *items[i]) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string text_array(const std::vector<std::string>& items) {
  std::vector<std::optional<std::string>> opt(items.begin(), items.end());
  return text_array(opt);
}

std::string int_array(const std::vector<int>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i ? "," : "") + std::to_string(items[i]);
  return out + "}";
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
