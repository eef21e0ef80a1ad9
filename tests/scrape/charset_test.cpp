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

TEST(charset, only_web_encodings_are_recognised) {
  EXPECT_EQ(web_encoding_of("UTF-8"), "utf-8");
  EXPECT_EQ(web_encoding_of(" latin1 "), "windows-1252");
  EXPECT_EQ(web_encoding_of("us-ascii"), "windows-1252");
  EXPECT_EQ(web_encoding_of("x-sjis"), "shift_jis");
  EXPECT_EQ(web_encoding_of("CP1251"), "windows-1251");
  EXPECT_EQ(web_encoding_of("gb2312"), "gbk");
  EXPECT_EQ(web_encoding_of("ks_c_5601-1987"), "euc-kr");
  EXPECT_EQ(web_encoding_of("koi8-u"), "koi8-u");
  EXPECT_EQ(web_encoding_of("iso-8859-15"), "iso-8859-15");
  EXPECT_EQ(web_encoding_of("utf-16"), "utf-16le");
  EXPECT_EQ(web_encoding_of("macintosh"), "macintosh");
  // iconv knows these; the web does not use them, and some hide markup from a reader.
  for (const char* foreign :
       {"utf-7", "UTF-32", "ibm037", "cp500", "ebcdic-us", "ucs-4", "utf-8,", "../../etc/passwd",
        "iso-2022-kr", "hz-gb-2312", "replacement", "x-user-defined", "", " "})
    EXPECT_EQ(web_encoding_of(foreign), "") << foreign;
}

TEST(charset, unknown_labels_fall_through_to_the_next_source_then_utf8) {
  EXPECT_EQ(detect_charset("<meta charset=\"windows-1251\">", "text/html; charset=bogus"),
            "windows-1251");
  EXPECT_EQ(detect_charset("<p>x</p>", "text/html; charset=utf-7"), "utf-8");
  EXPECT_EQ(detect_charset("<meta charset=\"ibm037\">", ""), "utf-8");
  EXPECT_EQ(detect_charset("<p>x</p>", "text/html; charset=latin1"), "windows-1252");
  // A <meta> read as ASCII cannot announce UTF-16.
  EXPECT_EQ(detect_charset("<meta charset=\"utf-16\">", ""), "utf-8");
  EXPECT_EQ(detect_charset("h\0i\0", "text/html; charset=utf-16le"), "utf-16le");
}

TEST(charset, encodings_outside_the_allowlist_never_reach_iconv) {
  // iconv would decode UTF-7 into markup; read as UTF-8 it stays inert text.
  EXPECT_EQ(decode_to_utf8("+ADw-script+AD4-", "text/html; charset=utf-7"), "+ADw-script+AD4-");
  // EBCDIC would turn ASCII text into other letters.
  EXPECT_EQ(decode_to_utf8("contact@example.com", "text/html; charset=ibm037"),
            "contact@example.com");
  // Allowlisted encodings still convert, whichever label names them.
  EXPECT_EQ(decode_to_utf8("\x82\xA0", "text/html; charset=x-sjis"), "あ");
  EXPECT_EQ(decode_to_utf8("\xE9", "text/html; charset=l1"), "é");
  EXPECT_EQ(decode_to_utf8("\xC1", "text/html; charset=koi8-r"), "а");
}
