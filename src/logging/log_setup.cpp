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

// The text format's message, with control characters and invalid UTF-8 escaped: remote bytes (a
// header, a page's text) cannot move the terminal's cursor or forge a line.
class escaped_message_flag final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string escaped;
    append_text_escaped(escaped, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<escaped_message_flag>();
  }
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

namespace {

constexpr char k_hex[] = "0123456789abcdef";

// The length of the valid UTF-8 sequence at text[i] (1 for ASCII), or 0 when the bytes there are
// no valid sequence (overlong forms, surrogates and values past U+10FFFF included).
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const auto c = b(0);
  if (c < 0x80)
    return 1;
  std::size_t n = c >= 0xC2 && c <= 0xDF   ? 2
                  : c >= 0xE0 && c <= 0xEF ? 3
                  : c >= 0xF0 && c <= 0xF4 ? 4
                                           : 0;
  if (n == 0 || i + n > text.size())
    return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((b(k) & 0xC0) != 0x80)
      return 0;
  if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F) || (c == 0xF0 && b(1) < 0x90) ||
      (c == 0xF4 && b(1) > 0x8F))
    return 0;
  return n;
}

// U+0080..U+009F: C1 controls, which some terminals act on (0x9B starts a control sequence).
bool is_c1_control(std::string_view text, std::size_t i, std::size_t n) {
  return n == 2 && static_cast<unsigned char>(text[i]) == 0xC2 &&
         static_cast<unsigned char>(text[i + 1]) <= 0x9F;
}

void append_hex_escape(std::string& out, std::string_view prefix, unsigned value, int digits) {
  out += prefix;
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
    out += k_hex[(value >> shift) & 15];
}

} // namespace

void append_text_escaped(std::string& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto n = utf8_sequence(text, i);
    if (n == 0) {
      append_hex_escape(out, "\\x", c, 2);
      ++i;
    } else if (c == '\n') {
      out += "\n  "; // a continuation line, indented: no text can pass for a log line of its own
      ++i;
    } else if (c == '\t') {
      out += '\t';
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      append_hex_escape(out, "\\x", c, 2);
      ++i;
    } else if (is_c1_control(text, i, n)) {
      append_hex_escape(out, "\\u", static_cast<unsigned char>(text[i + 1]), 4);
      i += n;
    } else {
      out.append(text, i, n);
      i += n;
    }
  }
}

void append_json_escaped(std::string& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto n = utf8_sequence(text, i);
    if (n == 0) { // not UTF-8: the replacement character keeps the line valid JSON
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (n > 1) {
      if (is_c1_control(text, i, n))
        append_hex_escape(out, "\\u", static_cast<unsigned char>(text[i + 1]), 4);
      else
        out.append(text, i, n);
      i += n;
      continue;
    }
    ++i;
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
      if (c < 0x20 || c == 0x7F)
        append_hex_escape(out, "\\u", c, 4);
      else
        out += static_cast<char>(c);
    }
  }
}

std::unique_ptr<spdlog::formatter> text_formatter() {
  auto text = std::make_unique<spdlog::pattern_formatter>();
  text->add_flag<item_flag>('*').add_flag<escaped_message_flag>('&').set_pattern(
      "[%Y-%m-%d %H:%M:%S.%e] [%l] %*%&");
  return text;
}

std::unique_ptr<spdlog::formatter> json_line_formatter(std::string node) {
  return std::make_unique<json_formatter>(std::move(node));
}

void configure(std::string_view format, std::string node, std::string_view level,
               log_stream stream) {
  auto dedupe = std::make_shared<spdlog::sinks::dup_filter_sink_mt>(std::chrono::seconds(5));
  if (stream == log_stream::err)
    dedupe->add_sink(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  else
    dedupe->add_sink(std::make_shared<spdlog::sinks::stdout_sink_mt>());
  auto logger = std::make_shared<spdlog::logger>("scrapersky", dedupe);
  if (format == "json") {
    logger->set_formatter(json_line_formatter(std::move(node)));
  } else {
    logger->set_formatter(text_formatter());
  }
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::trace); // operators and supervisors read the log as it is written
  spdlog::set_default_logger(std::move(logger));
}

} // namespace sky::logging
