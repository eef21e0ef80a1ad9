// Raw socket HTTP exchange for tests.
#include "support/raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace sky::test_support {

raw_response raw_exchange(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("connect failed");
  }
  std::size_t sent = 0;
  while (sent < request.size()) {
    auto n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break; // the server may close early (e.g. 413) while we still send
    sent += static_cast<std::size_t>(n);
  }
  raw_response r;
  char buf[8192];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0)
      break;
    auto n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    r.raw.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  auto header_end = r.raw.find("\r\n\r\n");
  if (r.raw.rfind("HTTP/1.", 0) != 0 || header_end == std::string::npos)
    return r;
  r.status = std::stoi(r.raw.substr(9, 3));
  std::size_t pos = r.raw.find("\r\n") + 2;
  while (pos < header_end) {
    auto end = r.raw.find("\r\n", pos);
    auto line = r.raw.substr(pos, end - pos);
    auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ')
      value.erase(0, 1);
    r.headers[name] = value;
    pos = end + 2;
  }
  r.body = r.raw.substr(header_end + 4);
  return r;
}

std::string make_request(const std::string& method, const std::string& target,
                         const std::map<std::string, std::string>& headers,
                         const std::string& body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers)
    req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return req + "\r\n" + body;
}

} // namespace sky::test_support
