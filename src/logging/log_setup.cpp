// A JSON formatter for spdlog and a thread-local item context.
#include "logging/log_setup.hpp"

#include <chrono>
#include <ctime>
#include <spdlog/sinks/dup_filter_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace sky::logging {
namespace {

thread_local const item_scope* current_item = nullptr;

class json_formatter final : public spdlog::formatter {
public:
  explicit json_formatter(std::string node) : node_(std::move(node)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"time\":\"";
    auto seconds = std::chrono::system_clock::to_time_t(msg.time);
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count() %
        1000000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[96];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<long long>(micros));
    line += stamp;
    line += "\",\"level\":\"";
    auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",\"message\":\"";
    append_json_escaped(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "\",\"node\":\"";
    append_json_escaped(line, node_);
    line += '"';
    if (const auto* item = current_item) {
      line += ",\"queue\":\"";
      append_json_escaped(line, item->queue);
      line += "\",\"item_id\":\"";
      append_json_escaped(line, item->item_id);
      line += "\",\"attempt\":" + std::to_string(item->attempt);
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>(node_);
  }

private:
  std::string node_;
};

// The text format, with the item a line is about in front of its message.
class item_flag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (const auto* item = current_item) {
      std::string prefix = "[" + std::string(item->queue) + " " + std::string(item->item_id) + "#" +
                           std::to_string(item->attempt) + "] ";
      dest.append(prefix.data(), prefix.data() + prefix.size());
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<item_flag>();
  }
};

} // namespace

item_scope::item_scope(std::string_view q, std::string_view id, int a)
    : outer_(current_item), queue(q), item_id(id), attempt(a) {
  current_item = this;
}

item_scope::~item_scope() {
  current_item = outer_;
}

void append_json_escaped(std::string& out, std::string_view text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  for (unsigned char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20) {
        out += "\\u00";
        out += k_hex[c >> 4];
        out += k_hex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
    }
  }
}

void configure(std::string_view format, std::string node, std::string_view level) {
  auto dedupe = std::make_shared<spdlog::sinks::dup_filter_sink_mt>(std::chrono::seconds(5));
  dedupe->add_sink(std::make_shared<spdlog::sinks::stdout_sink_mt>());
  auto logger = std::make_shared<spdlog::logger>("scrapersky", dedupe);
  if (format == "json") {
    logger->set_formatter(std::make_unique<json_formatter>(std::move(node)));
  } else {
    auto text = std::make_unique<spdlog::pattern_formatter>();
    text->add_flag<item_flag>('*').set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %*%v");
    logger->set_formatter(std::move(text));
  }
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::trace); // operators and supervisors read the log as it is written
  spdlog::set_default_logger(std::move(logger));
}

} // namespace sky::logging
