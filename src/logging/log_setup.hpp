// How the process logs: text or one JSON object per line, the item a line is about, and bursts of
// identical lines folded into one.
#pragma once

#include <memory>
#include <spdlog/formatter.h>
#include <string>
#include <string_view>

namespace sky::logging {

// Replaces the default logger: `json` writes one object per line (time, level, message, node,
// and queue, item_id and attempt when a line is about an item); otherwise the usual text lines.
// Identical consecutive lines within a few seconds are dropped and counted, so an error that
// repeats for every item of a burst does not flood the log. The server logs to stdout; the
// one-shot commands, whose stdout is their result, log to stderr.
enum class log_stream { out, err };
void configure(std::string_view format, std::string node, std::string_view level,
               log_stream stream = log_stream::out);

// While alive, lines logged by this thread are about this item (fields of the JSON line; a
// "[queue item#attempt]" prefix in text).
class item_scope {
public:
  item_scope(std::string_view queue, std::string_view item_id, int attempt);
  ~item_scope();
  item_scope(const item_scope&) = delete;
  item_scope& operator=(const item_scope&) = delete;

private:
  const item_scope* outer_;

public:
  std::string_view queue, item_id;
  int attempt;
};

// Appends `text` to `out` as the inside of a JSON string; bytes that are not UTF-8 become U+FFFD,
// C0 and C1 controls and DEL \u escapes.
void append_json_escaped(std::string& out, std::string_view text);

// Appends `text` to `out` as the text format writes it: control characters (ESC above all), DEL
// and bytes that are not UTF-8 as \xNN, C1 controls as \uNNNN, and a newline followed by two
// spaces, so that nothing a message carries can pass for a log line of its own.
void append_text_escaped(std::string& out, std::string_view text);

// The formatters configure() installs, for tests that log into a sink of their own.
std::unique_ptr<spdlog::formatter> text_formatter();
std::unique_ptr<spdlog::formatter> json_line_formatter(std::string node);

} // namespace sky::logging
