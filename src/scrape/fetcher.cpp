// The fetcher: curl's socket/timer callbacks mapped onto Asio waits; no polling loop.
#include "scrape/fetcher.hpp"

#include "scrape/address_rules.hpp"
#include "scrape/host_schedule.hpp"
#include "scrape/url_rules.hpp"

#include <arpa/inet.h>
#include <boost/asio.hpp>
#include <cstring>
#include <curl/curl.h>
#include <future>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <random>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <utility>

namespace sky::scrape {
namespace {

namespace asio = boost::asio;

struct curl_global {
  curl_global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~curl_global() { curl_global_cleanup(); }
};

fetch_result stopped_result() {
  fetch_result r;
  r.error = std::string(k_fetcher_stopped);
  return r;
}

// A request's callback, called exactly once: with the result, or with k_fetcher_stopped when the
// request is dropped on any path (transfer torn down, timer cancelled, start never run), so that
// nobody waiting on it can hang.
class completion {
public:
  explicit completion(std::function<void(fetch_result)> done) : done_(std::move(done)) {}
  completion(completion&& other) noexcept : done_(std::exchange(other.done_, nullptr)) {}
  completion& operator=(completion&& other) noexcept {
    if (this != &other) {
      complete_dropped();
      done_ = std::exchange(other.done_, nullptr);
    }
    return *this;
  }
  completion(const completion&) = delete;
  completion& operator=(const completion&) = delete;
  ~completion() { complete_dropped(); }

  void operator()(fetch_result r) {
    if (auto done = std::exchange(done_, nullptr))
      done(std::move(r));
  }

private:
  void complete_dropped() noexcept {
    if (!done_)
      return;
    try {
      (*this)(stopped_result());
    } catch (...) { // callbacks must not throw; a destructor cannot pass it on
    }
  }

  std::function<void(fetch_result)> done_;
};

} // namespace

struct fetcher::impl {
  struct transfer {
    transfer() = default;
    transfer(const transfer&) = delete;
    transfer& operator=(const transfer&) = delete;
    ~transfer() { curl_slist_free_all(header_lines); }

    impl* owner = nullptr;
    CURL* easy = nullptr;
    completion done{nullptr};
    fetch_result result;
    fetch_request request;     // kept whole for a retry; curl reads the POST body from here
    int attempt = 0;           // retries so far
    std::size_t max_bytes = 0; // this request's size cap (decompressed)
    curl_slist* header_lines = nullptr;
    char error[CURL_ERROR_SIZE] = {};
  };

  struct watched_socket {
    explicit watched_socket(asio::io_context& io, curl_socket_t fd) : descriptor(io, fd) {}
    asio::posix::stream_descriptor descriptor;
    int wanted = 0; // CURL_POLL_IN / OUT / INOUT
    bool reading = false, writing = false;
  };

  explicit impl(const config::fetch_config& c)
      : config(c), policy(c.allow_private),
        schedule_of_hosts(c.per_host_delay, c.max_tracked_hosts), timer(io),
        guard(asio::make_work_guard(io)) {
    static curl_global global;
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &impl::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &impl::on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    // Politeness: at most this many connections to one host; more transfers wait in curl's queue.
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(std::max(1, c.per_host_connections)));
    for (const auto& entry : c.connect_to)
      connect_to = curl_slist_append(connect_to, entry.c_str());
    thread = std::thread([this] { io.run(); });
  }

  ~impl() {
    stop();
    for (auto& [fd, s] : sockets)
      s->descriptor.release(); // curl owns its sockets
    sockets.clear();
    curl_multi_cleanup(multi);
    curl_slist_free_all(connect_to);
  }

  // Tears down every transfer and waiting request (their callbacks get k_fetcher_stopped) and
  // joins the thread. Requests posted before this run first, so none is left behind.
  void stop() {
    {
      std::lock_guard lock(stop_mutex);
      stopped = true;
    }
    std::call_once(joined, [this] {
      asio::post(io, [this] {
        stopping = true;
        for (const auto& wait : delayed)
          wait->cancel();
        for (auto& [easy, t] : transfers) {
          curl_multi_remove_handle(multi, easy);
          curl_easy_cleanup(easy);
        }
        transfers.clear();
        timer.cancel();
        guard.reset();
      });
      thread.join();
    });
  }

  config::fetch_config config;
  curl_slist* connect_to = nullptr;
  std::mt19937_64 random{std::random_device{}()};
  ssrf_policy policy;
  host_schedule schedule_of_hosts; // per-host politeness, bounded
  asio::io_context io;
  asio::steady_timer timer;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::thread thread;
  CURLM* multi = nullptr;
  std::map<curl_socket_t, std::unique_ptr<watched_socket>> sockets;
  std::map<CURL*, std::unique_ptr<transfer>> transfers;
  std::set<std::shared_ptr<asio::steady_timer>> delayed; // cancelled when the fetcher stops
  int running = 0;
  bool stopping = false; // no timer re-arming while transfers are torn down (fetcher thread)
  std::mutex stop_mutex;
  bool stopped = false; // no more posts to io once set (guarded by stop_mutex)
  std::once_flag joined;

  // ---- curl callbacks (all on the fetcher thread) ----
  static int on_socket(CURL*, curl_socket_t fd, int what, void* self_ptr, void*) {
    auto* self = static_cast<impl*>(self_ptr);
    if (what == CURL_POLL_REMOVE) {
      if (auto it = self->sockets.find(fd); it != self->sockets.end()) {
        boost::system::error_code ignored;
        it->second->descriptor.cancel(ignored);
        it->second->descriptor.release();
        self->sockets.erase(it);
      }
      return 0;
    }
    auto& slot = self->sockets[fd];
    if (!slot)
      slot = std::make_unique<watched_socket>(self->io, fd);
    slot->wanted = what;
    self->arm(fd);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* self_ptr) {
    auto* self = static_cast<impl*>(self_ptr);
    self->timer.cancel();
    if (timeout_ms < 0 || self->stopping)
      return 0;
    self->timer.expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer.async_wait([self](boost::system::error_code ec) {
      if (ec)
        return;
      curl_multi_socket_action(self->multi, CURL_SOCKET_TIMEOUT, 0, &self->running);
      self->collect();
    });
    return 0;
  }

  static curl_socket_t on_open_socket(void* transfer_ptr, curlsocktype,
                                      struct curl_sockaddr* address) {
    auto* t = static_cast<transfer*>(transfer_ptr);
    config::ip_address ip;
    bool known = false;
    if (address->family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(&address->addr);
      ip.bytes[10] = ip.bytes[11] = 0xff;
      std::memcpy(&ip.bytes[12], &sin->sin_addr, 4);
      known = true;
    } else if (address->family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&address->addr);
      std::memcpy(ip.bytes.data(), &sin6->sin6_addr, 16);
      known = true;
    }
    if (!known || !t->owner->policy.allows(ip)) {
      t->result.blocked = true;
      return CURL_SOCKET_BAD;
    }
    return ::socket(address->family, address->socktype, address->protocol);
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* transfer_ptr) {
    auto* t = static_cast<transfer*>(transfer_ptr);
    const auto n = size * count;
    if (t->result.body.size() + n > t->max_bytes) {
      t->result.too_large = true;
      return 0; // aborts the transfer
    }
    t->result.body.append(data, n);
    return n;
  }

  // ---- Asio side ----
  void arm(curl_socket_t fd) {
    auto it = sockets.find(fd);
    if (it == sockets.end())
      return;
    auto& s = *it->second;
    if ((s.wanted & CURL_POLL_IN) && !s.reading) {
      s.reading = true;
      s.descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                              [this, fd](boost::system::error_code ec) { ready(fd, ec, true); });
    }
    if ((s.wanted & CURL_POLL_OUT) && !s.writing) {
      s.writing = true;
      s.descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                              [this, fd](boost::system::error_code ec) { ready(fd, ec, false); });
    }
  }

  void ready(curl_socket_t fd, boost::system::error_code ec, bool readable) {
    auto it = sockets.find(fd);
    if (ec == asio::error::operation_aborted || it == sockets.end())
      return; // the socket was removed (and maybe its number reused) meanwhile
    (readable ? it->second->reading : it->second->writing) = false;
    int flags = ec ? CURL_CSELECT_ERR : (readable ? CURL_CSELECT_IN : CURL_CSELECT_OUT);
    curl_multi_socket_action(multi, fd, flags, &running);
    collect();
    arm(fd); // still wanted? wait again
  }

  void collect() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      CURL* easy = msg->easy_handle;
      auto it = transfers.find(easy);
      if (it == transfers.end())
        continue;
      auto t = std::move(it->second);
      transfers.erase(it);
      auto code = msg->data.result;
      finish(*t, code);
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
      if (auto delay = retry_delay(*t, code)) {
        retry_later(std::move(t->request), std::move(t->done), t->attempt + 1, *delay);
        continue;
      }
      t->result.attempts = t->attempt + 1;
      t->done(std::move(t->result));
    }
  }

  void finish(transfer& t, CURLcode code) {
    auto& r = t.result;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &r.status);
    char* url = nullptr;
    if (curl_easy_getinfo(t.easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url)
      r.final_url = url;
    char* type = nullptr;
    if (curl_easy_getinfo(t.easy, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type)
      r.content_type = type;
    curl_easy_getinfo(t.easy, CURLINFO_REDIRECT_COUNT, &r.redirects);
    curl_easy_getinfo(t.easy, CURLINFO_TOTAL_TIME, &r.seconds);
    curl_off_t retry_after = 0;
    if (curl_easy_getinfo(t.easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
        retry_after > 0)
      r.retry_after_s = static_cast<long>(retry_after);
    if (code == CURLE_FILESIZE_EXCEEDED)
      r.too_large = true; // refused from the declared Content-Length before reading it
    if (r.blocked)
      r.error = "blocked by the SSRF guard (private, loopback, link-local or metadata address)";
    else if (r.too_large)
      r.error = "response larger than " + std::to_string(t.max_bytes) + " bytes";
    else if (code != CURLE_OK)
      r.error = t.error[0] ? t.error : curl_easy_strerror(code);
  }

  // How long to wait before retrying a transient failure; nullopt when it is not retried.
  std::optional<std::chrono::milliseconds> retry_delay(const transfer& t, CURLcode code) {
    const auto& r = t.result;
    if (t.attempt >= config.max_retries || r.blocked || r.too_large || stopping)
      return std::nullopt;
    bool transient_transport = code == CURLE_COULDNT_CONNECT || code == CURLE_SEND_ERROR ||
                               code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING ||
                               code == CURLE_PARTIAL_FILE || code == CURLE_HTTP2 ||
                               code == CURLE_HTTP2_STREAM;
    bool transient_status = code == CURLE_OK && (r.status == 429 || r.status == 502 ||
                                                 r.status == 503 || r.status == 504);
    if (!transient_transport && !transient_status)
      return std::nullopt;
    if (r.retry_after_s) {
      if (std::chrono::seconds(*r.retry_after_s) > config.max_retry_after)
        return std::nullopt; // too long to hold a worker: the caller requeues the item
      return std::chrono::seconds(*r.retry_after_s);
    }
    auto base = config.retry_base * (1 << t.attempt);
    std::uniform_int_distribution<long> jitter(base.count() / 2, base.count());
    return std::chrono::milliseconds(jitter(random));
  }

  void retry_later(fetch_request request, completion done, int attempt,
                   std::chrono::milliseconds delay) {
    start_at(std::chrono::steady_clock::now() + delay, std::move(request), std::move(done),
             attempt);
  }

  // Starts the transfer at `at`, unless the fetcher stops first.
  void start_at(std::chrono::steady_clock::time_point at, fetch_request request, completion done,
                int attempt) {
    auto wait = std::make_shared<asio::steady_timer>(io, at);
    delayed.insert(wait);
    wait->async_wait([this, wait, request = std::move(request), done = std::move(done),
                      attempt](boost::system::error_code ec) mutable {
      delayed.erase(wait);
      if (!ec && !stopping)
        start(std::move(request), std::move(done), attempt);
    });
  }

  // Spaces requests to one host by per_host_delay, then starts the transfer.
  void schedule(fetch_request request, completion done) {
    auto parsed = parse_web_url(request.url);
    if (!parsed) {
      fetch_result r;
      r.error = "not an absolute http(s) URL";
      done(std::move(r));
      return;
    }
    auto now = std::chrono::steady_clock::now();
    auto at = schedule_of_hosts.reserve(parsed->host, now);
    if (at <= now)
      start(std::move(request), std::move(done), 0);
    else
      start_at(at, std::move(request), std::move(done), 0);
  }

  void start(fetch_request request, completion done, int attempt) {
    auto t = std::make_unique<transfer>();
    t->owner = this;
    t->done = std::move(done);
    t->request = std::move(request);
    t->attempt = attempt;
    t->max_bytes = t->request.max_bytes.value_or(config.max_response_bytes);
    const auto& r = t->request;
    CURL* e = t->easy = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, ""); // never route through an environment proxy
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    const bool carries_data = r.post_body || !r.headers.empty();
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, carries_data ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(config.max_redirects));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(config.connect_timeout.count() * 1000));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(config.total_timeout.count() * 1000));
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 64L); // bytes/s ...
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 15L);  // ... sustained this long
    curl_easy_setopt(e, CURLOPT_USERAGENT, config.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); // every encoding curl decodes
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t->max_bytes));
    if (r.post_body) {
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(r.post_body->size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.post_body->data());
      // No "Expect: 100-continue" round trip before a body that small.
      t->header_lines = curl_slist_append(t->header_lines, "Expect:");
    }
    for (const auto& line : r.headers)
      t->header_lines = curl_slist_append(t->header_lines, line.c_str());
    if (t->header_lines)
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_lines);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &impl::on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &impl::on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t.get());
    if (connect_to)
      curl_easy_setopt(e, CURLOPT_CONNECT_TO, connect_to);
    transfers.emplace(e, std::move(t));
    curl_multi_add_handle(multi, e);
  }
};

fetcher::fetcher(const config::fetch_config& config) : impl_(std::make_unique<impl>(config)) {}

fetcher::~fetcher() {
  stop();
}

void fetcher::stop() {
  impl_->stop();
}

void fetcher::fetch(fetch_request request, std::function<void(fetch_result)> done) {
  completion callback(std::move(done));
  {
    // Checked and posted under the lock: once stop() has set the flag nothing more is posted,
    // so every posted request runs before the fetcher thread ends.
    std::lock_guard lock(impl_->stop_mutex);
    if (!impl_->stopped) {
      asio::post(impl_->io, [owner = impl_.get(), request = std::move(request),
                             callback = std::move(callback)]() mutable {
        owner->schedule(std::move(request), std::move(callback));
      });
      return;
    }
  }
  callback(stopped_result());
}

void fetcher::fetch(std::string url, std::function<void(fetch_result)> done,
                    std::optional<std::size_t> max_bytes) {
  fetch(fetch_request{std::move(url), std::nullopt, {}, max_bytes}, std::move(done));
}

fetch_result fetcher::fetch_blocking(fetch_request request) {
  auto promise = std::make_shared<std::promise<fetch_result>>();
  auto future = promise->get_future();
  fetch(std::move(request), [promise](fetch_result r) { promise->set_value(std::move(r)); });
  return future.get();
}

fetch_result fetcher::fetch_blocking(std::string url, std::optional<std::size_t> max_bytes) {
  return fetch_blocking(fetch_request{std::move(url), std::nullopt, {}, max_bytes});
}

} // namespace sky::scrape
