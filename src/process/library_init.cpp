// One place that sets up every library with global state, each with what its documentation says
// about threads. The audit's findings (Debian 12's versions):
//
// - libxml2 2.9.14: its globals (the dictionary's random seed and mutex, the encoding handlers,
//   the thread-local state keys) are created lazily by the first parser context, and that lazy
//   path is not thread-safe: two threads creating their first HTML parser context at the same
//   instant can deadlock for good in xmlRMutexLock (__xmlRandom <- xmlDictCreate <-
//   htmlNewParserCtxt). The documentation of xmlInitParser(): "call once before processing in
//   case of use in multithreaded programs". xmlCleanupParser() is never called: it is not safe
//   while any thread may still parse, and the process exit frees everything anyway.
// - libcurl 7.88: curl_global_init() "is not thread safe" before 7.84 and, even since, must not
//   race with curl_global_cleanup(). It is called here once and never cleaned up before exit
//   (the fetcher's own call adds a reference and is then a no-op).
// - OpenSSL 3.0 (under libcurl and libpq): initialises itself on first use through
//   CRYPTO_THREAD_run_once, which is thread-safe; the explicit OPENSSL_init_ssl() only moves the
//   cost (loading the configuration, the error strings) out of the first TLS connection.
// - libphonenumber 8.12 (Debian builds it with Boost): PhoneNumberUtil::GetInstance() is a
//   singleton behind boost::call_once, thread-safe; its first call parses the metadata of every
//   region (tens of milliseconds), done here so that no page pays it.
// - ICU 72 (libphonenumber's regular expressions, the phone scan's digit classes): u_init() is
//   optional and thread-safe since ICU 3.4; called so that loading the data is not on a page.
// - libpsl: psl_builtin() is a static table; psl_latest() is called once from a function-local
//   static (C++11 makes that initialisation thread-safe). Warmed here all the same.
// - iconv (glibc): iconv_open() loads converter modules under glibc's own lock; thread-safe, and
//   each converter (iconv_t) is used by one thread only. Nothing to do.
// - RE2: compiled patterns are immutable and safe to share between threads; the project's
//   patterns are function-local statics, whose initialisation C++11 makes thread-safe. RE2 keeps
//   no global cache. Nothing to do.
// - zlib: no global state (Debian does not build it with DYNAMIC_CRC_TABLE). Nothing to do.
#include "process/library_init.hpp"

#include "scrape/domain_rules.hpp"

#include <atomic>
#include <curl/curl.h>
#include <libxml/parser.h>
#include <mutex>
#include <openssl/ssl.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/uclean.h>

namespace sky::process {
namespace {

std::atomic<bool> initialised{false};

} // namespace

void init_libraries() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    OPENSSL_init_ssl(0, nullptr);
    UErrorCode status = U_ZERO_ERROR;
    u_init(&status); // a failure here is reported again, with context, where ICU is used
    i18n::phonenumbers::PhoneNumberUtil::GetInstance();
    scrape::registrable_domain("example.com"); // loads the public suffix list
    initialised = true;
  });
}

bool libraries_initialised() {
  return initialised.load();
}

} // namespace sky::process
