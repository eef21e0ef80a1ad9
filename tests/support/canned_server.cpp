#include "support/canned_server.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sky::test_support {

std::string canned_response(int status, const std::string& body, const std::string& extra) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
         extra + "\r\n" + body;
}

canned_server::canned_server(canned_routes routes) : routes_(std::move(routes)) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listen(fd_, 128);
  acceptor_ = std::thread([this] { accept_loop(); });
}

canned_server::~canned_server() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all(); // releases the unanswered requests
  shutdown(fd_, SHUT_RDWR);
  close(fd_);
  acceptor_.join();
  for (auto& t : connections_)
    t.join();
}

std::string canned_server::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

int canned_server::hits(const std::string& path) {
  std::lock_guard lock(mutex_);
  return hits_[path];
}

std::string canned_server::last_request(const std::string& path) {
  std::lock_guard lock(mutex_);
  auto it = last_requests_.find(path);
  return it == last_requests_.end() ? std::string() : it->second;
}

bool canned_server::wait_for_hits(const std::string& path, int n,
                                  std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return hits_[path] >= n; });
}

void canned_server::accept_loop() {
  while (!stopping_) {
    int c = accept(fd_, nullptr, nullptr);
    if (c < 0)
      return;
    connections_.emplace_back([this, c] { serve(c); });
  }
}

void canned_server::serve(int c) {
  std::string request;
  char buf[4096];
  while (request.find("\r\n\r\n") == std::string::npos) {
    auto n = recv(c, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    request.append(buf, static_cast<std::size_t>(n));
  }
  // The body, when the head declares one (requests here are small, with a Content-Length).
  if (auto head_end = request.find("\r\n\r\n"); head_end != std::string::npos) {
    std::size_t length = 0;
    for (const char* name : {"\r\nContent-Length:", "\r\ncontent-length:"})
      if (auto at = request.find(name); at != std::string::npos && at < head_end)
        length = std::stoul(request.substr(at + std::strlen(name)));
    while (request.size() < head_end + 4 + length) {
      auto n = recv(c, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      request.append(buf, static_cast<std::size_t>(n));
    }
  }
  auto first_space = request.find(' ');
  auto path =
      first_space == std::string::npos
          ? std::string()
          : request.substr(first_space + 1, request.find(' ', first_space + 1) - first_space - 1);
  std::string reply;
  {
    std::unique_lock lock(mutex_);
    int seen = hits_[path]++;
    last_requests_[path] = request;
    changed_.notify_all();
    if (routes_.unanswered.count(path)) {
      changed_.wait(lock, [&] { return stopping_.load(); });
      close(c);
      return;
    }
    if (auto seq = routes_.sequences.find(path); seq != routes_.sequences.end())
      reply = seq->second[std::min<std::size_t>(seen, seq->second.size() - 1)];
    else if (auto it = routes_.fixed.find(path); it != routes_.fixed.end())
      reply = it->second;
    else
      reply = canned_response(404, "nope");
  }
  std::size_t sent = 0;
  while (sent < reply.size()) {
    auto n = send(c, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break;
    sent += static_cast<std::size_t>(n);
  }
  close(c);
}

} // namespace sky::test_support
