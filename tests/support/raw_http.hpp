// A deliberately primitive HTTP/1.1 client over a raw socket, so tests can send malformed bytes.
#pragma once

#include <map>
#include <string>

namespace sky::test_support {

struct raw_response {
  int status = 0;                             // 0 when nothing parseable came back
  std::map<std::string, std::string> headers; // lower-case names
  std::string body;
  std::string raw;
};

// Sends `request` bytes to 127.0.0.1:port and reads until the server closes or 10 s pass.
raw_response raw_exchange(int port, const std::string& request);

// Builds a well-formed request with Connection: close.
std::string make_request(const std::string& method, const std::string& target,
                         const std::map<std::string, std::string>& headers = {},
                         const std::string& body = "");

} // namespace sky::test_support
