// Sitemap parsing with libxml2's streaming reader: DTDs are refused outright (a sitemap has no
// use for one, and entity declarations are how XML bombs work), the network is off, and the
// reader stops at the URL cap.
#include "scrape/sitemap.hpp"

#include "scrape/text_rules.hpp"
#include "scrape/url_rules.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <libxml/xmlreader.h>
#include <memory>
#include <zlib.h>

namespace sky::scrape {
namespace {

void ignore_errors(void*, const char*, xmlParserSeverities, xmlTextReaderLocatorPtr) {}

sitemap_document parse_text_list(std::string_view body, const sitemap_limits& limits) {
  sitemap_document doc;
  doc.type = sitemap_document::kind::text;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto end = body.find('\n', pos);
    if (end == std::string_view::npos)
      end = body.size();
    auto line = std::string(trim_space(body.substr(pos, end - pos)));
    pos = end + 1;
    if (line.empty())
      continue;
    if (!parse_web_url(line)) {
      doc.type = sitemap_document::kind::invalid;
      doc.error = "not a sitemap: neither XML nor a list of URLs";
      doc.urls.clear();
      return doc;
    }
    if (doc.urls.size() >= limits.max_urls) {
      doc.truncated = true;
      break;
    }
    doc.urls.push_back({line, {}, {}, std::nullopt});
  }
  return doc;
}

// True when the prolog (everything before the root element) declares a document type.
bool declares_dtd(std::string_view body) {
  for (std::size_t pos = body.find('<'); pos != std::string_view::npos;
       pos = body.find('<', pos + 1)) {
    if (pos + 1 < body.size() && std::isalpha(static_cast<unsigned char>(body[pos + 1])))
      return false; // the root element starts here
    if (body.substr(pos, 9) == "<!DOCTYPE")
      return true;
  }
  return false;
}

sitemap_document parse_xml(std::string_view body, const sitemap_limits& limits) {
  sitemap_document doc;
  auto fail = [&](std::string why) {
    doc = {};
    doc.error = std::move(why);
    return doc;
  };
  // Refused before parsing: a DTD is where entity bombs and external entities live.
  if (declares_dtd(body))
    return fail("sitemap declares a DTD; refused");
  std::unique_ptr<xmlTextReader, void (*)(xmlTextReaderPtr)> reader(
      xmlReaderForMemory(body.data(), static_cast<int>(body.size()), "sitemap.xml", nullptr,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
      xmlFreeTextReader);
  if (!reader)
    return fail("cannot read XML");
  xmlTextReaderSetErrorHandler(reader.get(), ignore_errors, nullptr);

  std::string element; // current leaf inside <url> or <sitemap>
  bool in_entry = false;
  sitemap_url entry;
  std::string entry_text;
  int depth_of_root = -1;
  std::string root_namespace; // extensions (image:, video:, news:) live in other namespaces
  int rc;
  while ((rc = xmlTextReaderRead(reader.get())) == 1) {
    int type = xmlTextReaderNodeType(reader.get());
    if (type == XML_READER_TYPE_DOCUMENT_TYPE)
      return fail("sitemap declares a DTD; refused");
    if (type == XML_READER_TYPE_ENTITY_REFERENCE)
      return fail("sitemap uses entity references; refused");
    const char* local = reinterpret_cast<const char*>(xmlTextReaderConstLocalName(reader.get()));
    const char* ns = reinterpret_cast<const char*>(xmlTextReaderConstNamespaceUri(reader.get()));
    std::string_view name = local ? local : "";
    std::string_view name_space = ns ? ns : "";
    if ((type == XML_READER_TYPE_ELEMENT || type == XML_READER_TYPE_END_ELEMENT) &&
        depth_of_root >= 0 && name_space != root_namespace)
      continue;
    if (type == XML_READER_TYPE_ELEMENT) {
      if (depth_of_root < 0) {
        depth_of_root = xmlTextReaderDepth(reader.get());
        root_namespace = name_space;
        if (name == "urlset")
          doc.type = sitemap_document::kind::urlset;
        else if (name == "sitemapindex")
          doc.type = sitemap_document::kind::index;
        else
          return fail("not a sitemap: root element <" + std::string(name) + ">");
        continue;
      }
      if ((name == "url" && doc.type == sitemap_document::kind::urlset) ||
          (name == "sitemap" && doc.type == sitemap_document::kind::index)) {
        in_entry = !xmlTextReaderIsEmptyElement(reader.get());
        entry = {};
      } else if (in_entry) {
        element = name;
        entry_text.clear();
      }
    } else if ((type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA) && in_entry) {
      if (const auto* v = xmlTextReaderConstValue(reader.get()))
        entry_text += reinterpret_cast<const char*>(v);
    } else if (type == XML_READER_TYPE_END_ELEMENT && in_entry) {
      if (name == "url" || name == "sitemap") {
        in_entry = false;
        if (entry.loc.empty() || !parse_web_url(entry.loc))
          continue; // an entry without a usable <loc> is skipped, not fatal
        auto total = doc.urls.size() + doc.sitemaps.size();
        if (total >= limits.max_urls) {
          doc.truncated = true;
          break;
        }
        if (doc.type == sitemap_document::kind::index)
          doc.sitemaps.push_back(std::move(entry.loc));
        else
          doc.urls.push_back(std::move(entry));
      } else if (name == element) {
        auto value = std::string(trim_space(entry_text));
        if (name == "loc")
          entry.loc = value;
        else if (name == "lastmod")
          entry.lastmod = value.substr(0, 64);
        else if (name == "changefreq")
          entry.changefreq = value.substr(0, 16);
        else if (name == "priority") {
          char* end = nullptr;
          double p = std::strtod(value.c_str(), &end);
          if (end && *end == '\0' && !value.empty() && p >= 0 && p <= 1)
            entry.priority = p;
        }
        element.clear();
      }
    }
  }
  if (rc < 0 && !doc.truncated)
    return fail("malformed sitemap XML");
  if (doc.type == sitemap_document::kind::invalid)
    return fail("empty document");
  return doc;
}

} // namespace

std::string_view sitemap_document::type_name() const {
  switch (type) {
  case kind::urlset:
    return "urlset";
  case kind::index:
    return "sitemapindex";
  case kind::text:
    return "text";
  case kind::invalid:
    break;
  }
  return "invalid";
}

bool looks_gzipped(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

std::optional<std::string> gunzip_capped(std::string_view data, std::size_t max_bytes,
                                         std::string& error) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) { // 32: accept gzip and zlib headers
    error = "cannot initialise zlib";
    return std::nullopt;
  }
  std::string out;
  char chunk[64 * 1024];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(data.size(), UINT32_MAX));
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      error = "corrupt gzip data";
      return std::nullopt;
    }
    std::size_t produced = sizeof chunk - z.avail_out;
    if (out.size() + produced > max_bytes) {
      inflateEnd(&z);
      error = "decompressed sitemap exceeds " + std::to_string(max_bytes) + " bytes";
      return std::nullopt;
    }
    out.append(chunk, produced);
    if (rc == Z_OK && produced == 0 && z.avail_in == 0) {
      inflateEnd(&z);
      error = "truncated gzip data";
      return std::nullopt;
    }
  }
  inflateEnd(&z);
  return out;
}

sitemap_document parse_sitemap(std::string_view body, const sitemap_limits& limits) {
  std::string inflated;
  if (looks_gzipped(body)) {
    std::string error;
    auto out = gunzip_capped(body, limits.max_bytes, error);
    if (!out) {
      sitemap_document doc;
      doc.error = error;
      return doc;
    }
    inflated = std::move(*out);
    body = inflated;
  }
  if (body.size() > limits.max_bytes) {
    sitemap_document doc;
    doc.error = "sitemap exceeds " + std::to_string(limits.max_bytes) + " bytes";
    return doc;
  }
  if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF")
    body.remove_prefix(3);
  auto first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    sitemap_document doc;
    doc.error = "empty document";
    return doc;
  }
  if (body[first] == '<')
    return parse_xml(body, limits);
  return parse_text_list(body, limits);
}

} // namespace sky::scrape
