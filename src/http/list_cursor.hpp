// Keyset cursors for the list routes: where the next page starts, as an opaque token.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sky::http {

// The position after the last row a page returned, under one sort order.
struct list_cursor {
  std::string order;                // "column:direction" the cursor was issued for
  std::optional<std::string> value; // the row's sort value as text; nullopt: NULL (or by id)
  std::string id;                   // the row's id, which breaks ties
};

// Most bytes of a token the decoder accepts: a sort value of a few kilobytes at most.
inline constexpr std::size_t k_max_cursor_bytes = 8192;

// base64url of a small JSON object, so a client treats it as opaque.
std::string encode_list_cursor(const list_cursor& cursor);
// nullopt for anything that is not a token this server would issue (wrong alphabet, not JSON,
// missing fields, an id that is not a UUID, too long).
std::optional<list_cursor> decode_list_cursor(std::string_view token);

// The offset an offset-paged client asks for next, or nullopt when it would pass `max_offset`
// (then only the cursor leads on).
std::optional<long long> next_offset_within(long long offset, std::size_t returned,
                                            long long max_offset);

} // namespace sky::http
