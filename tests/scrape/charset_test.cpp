// Charset detection and decoding to UTF-8.
#include "scrape/charset.hpp"

#include <gtest/gtest.h>

using namespace sky::scrape;

TEST(charset, detection_order_bom_header_meta_default) {
  EXPECT_EQ(detect_charset("\xEF\xBB\xBFhi", "text/html; charset=iso-8859-1"), "utf-8");
  EXPECT_EQ(detect_charset("<p>x</p>", "text/html; Charset=\"Shift_JIS\""), "shift_jis");
  EXPECT_EQ(detect_charset("<html><head><meta charset='windows-1251'>", "text/html"),
            "windows-1251");
  EXPECT_EQ(detect_charset(
                R"(<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-2">)", ""),
            "iso-8859-2");
  EXPECT_EQ(detect_charset("<p>plain</p>", "text/html"), "utf-8");
}

TEST(charset, converts_legacy_encodings) {
  EXPECT_EQ(decode_to_utf8("caf\xE9 \x80", "text/html; charset=iso-8859-1"), "café €");
  EXPECT_EQ(decode_to_utf8("\xCF\xF0\xE8\xE2\xE5\xF2", "text/html; charset=windows-1251"),
            "Привет");
  std::string utf16("\xFF\xFE"
                    "h\0i\0",
                    6);
  EXPECT_EQ(decode_to_utf8(utf16, ""), "hi");
}

TEST(charset, invalid_utf8_is_replaced_not_passed_through) {
  EXPECT_EQ(decode_to_utf8("ok\xFFok", "text/html"), "ok\xEF\xBF\xBDok");
  EXPECT_EQ(decode_to_utf8("\xC0\xAF", ""), "\xEF\xBF\xBD\xEF\xBF\xBD"); // overlong '/'
  EXPECT_EQ(decode_to_utf8("\xEF\xBB\xBFhé", ""), "hé");
  EXPECT_EQ(decode_to_utf8("x", "text/html; charset=no-such-charset"), "x");
}
