// A loopback HTTP server answering canned responses by path (whatever the Host), one thread per
// connection. It counts requests per path, keeps the last one of each, can answer a path with a
// sequence of responses, and can hold a path's requests unanswered until it stops: the server that
// never answers.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sky::test_support {

// "HTTP/1.1 <status> X", Content-Length, Connection: close, `extra` header lines, the body.
std::string canned_response(int status, const std::string& body, const std::string& extra = "");

struct canned_routes {
  std::map<std::string, std::string> fixed;                  // path -> response
  std::map<std::string, std::vector<std::string>> sequences; // answered in order, last repeats
  std::set<std::string> unanswered;                          // held open until the server stops
};

class canned_server {
public:
  explicit canned_server(canned_routes routes);
  ~canned_server();
  canned_server(const canned_server&) = delete;
  canned_server& operator=(const canned_server&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path) const;
  // Requests received for `path` so far.
  int hits(const std::string& path);
  // The last request received for `path`, head and body, as sent; empty when none came.
  std::string last_request(const std::string& path);
  // Waits until `path` has had `n` requests; false at the deadline.
  bool wait_for_hits(const std::string& path, int n, std::chrono::milliseconds timeout);

private:
  void accept_loop();
  void serve(int connection);

  canned_routes routes_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable changed_; // a request arrived, or the server is stopping
  std::map<std::string, int> hits_;
  std::map<std::string, std::string> last_requests_;
  std::thread acceptor_;
  std::vector<std::thread> connections_; // touched by the acceptor thread only until it ends
};

} // namespace sky::test_support
