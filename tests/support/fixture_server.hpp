// The fixture web and fake Places API served in the test process, plus the server environment
// that points a scrapersky process at them.
#pragma once

#include <map>
#include <memory>
#include <string>

namespace sky::test_support {

class fixture_server {
public:
  fixture_server();
  ~fixture_server();
  int port() const { return port_; }
  // FETCH_CONNECT_TO, FETCH_ALLOW_PRIVATE, PLACES_* and fast retries for a server under test.
  std::map<std::string, std::string>
  server_env(std::map<std::string, std::string> extra = {}) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  int port_ = 0;
};

} // namespace sky::test_support
