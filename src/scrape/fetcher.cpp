// The fetcher: curl's socket/timer callbacks mapped onto Asio waits; no polling loop.
#include "scrape/fetcher.hpp"

#include "scrape/address_rules.hpp"
#include "scrape/host_schedule.hpp"
#include "scrape/url_rules.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <boost/asio.hpp>
#include <cstring>
#include <curl/curl.h>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <pthread.h>
#include <random>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <thread>
#include <unordered_map>
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

fetch_result cancelled_result() {
  fetch_result r;
  r.error = std::string(k_fetch_cancelled);
  return r;
}

std::vector<std::string> cookie_lines(CURL* easy) {
  std::vector<std::string> out;
  curl_slist* list = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_COOKIELIST, &list) != CURLE_OK)
    return out;
  for (auto* l = list; l; l = l->next)
    out.emplace_back(l->data);
  curl_slist_free_all(list);
  return out;
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

std::vector<std::string> cookie_jar::lines() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.reserve(by_key_.size());
  for (const auto& [key, line] : by_key_)
    out.push_back(line);
  return out;
}

void cookie_jar::merge(const std::vector<std::string>& lines) {
  std::lock_guard lock(mutex_);
  for (const auto& line : lines) {
    // domain, tailmatch, path, secure, expires, name, value
    std::vector<std::string_view> fields;
    std::string_view rest(line);
    for (std::size_t tab; fields.size() < 6 && (tab = rest.find('\t')) != rest.npos;) {
      fields.push_back(rest.substr(0, tab));
      rest.remove_prefix(tab + 1);
    }
    if (fields.size() < 6)
      continue;
    auto key =
        std::string(fields[0]) + '\t' + std::string(fields[2]) + '\t' + std::string(fields[5]);
    auto it = by_key_.find(key);
    if (it != by_key_.end())
      it->second = line;
    else if (by_key_.size() < k_max_cookies)
      by_key_.emplace(std::move(key), line);
  }
}

std::size_t cookie_jar::size() const {
  std::lock_guard lock(mutex_);
  return by_key_.size();
}

struct fetcher::impl {
  struct transfer {
    transfer() = default;
    transfer(const transfer&) = delete;
    transfer& operator=(const transfer&) = delete;
    ~transfer() { curl_slist_free_all(header_lines); }

    impl* owner = nullptr;
    CURL* easy = nullptr;
    fetch_id id = 0;
    completion done{nullptr};
    fetch_result result;
    fetch_request request;     // kept whole for a retry; curl reads the POST body from here
    int attempt = 0;           // retries so far
    std::size_t max_bytes = 0; // this request's size cap (decompressed)
    curl_slist* header_lines = nullptr;
    char error[CURL_ERROR_SIZE] = {};
  };

  struct watched_socket {
    watched_socket(const asio::strand<asio::io_context::executor_type>& curl_side, curl_socket_t fd)
        : descriptor(curl_side, fd) {}
    asio::posix::stream_descriptor descriptor;
    int wanted = 0; // CURL_POLL_IN / OUT / INOUT
    bool reading = false, writing = false;
  };

  impl(const config::fetch_config& c, int threads)
      : config(c), policy(c.allow_private),
        schedule_of_hosts(c.per_host_delay, c.max_tracked_hosts), io(std::max(1, threads)),
        curl_side(asio::make_strand(io)), timer(curl_side), guard(asio::make_work_guard(io)) {
    static curl_global global;
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &impl::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &impl::on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    // Politeness: at most this many connections to one host; more transfers wait in curl's queue.
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(std::max(1, c.per_host_connections)));
    // curl would size its cache of idle connections by the transfers running at the moment,
    // closing connections that the next job to the same host could have reused.
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, c.max_cached_connections);
    for (const auto& entry : c.connect_to)
      connect_to = curl_slist_append(connect_to, entry.c_str());
    for (auto& host : connect_to_hosts(c.connect_to)) {
      curl_slist* list = nullptr;
      for (const auto& line : connect_to_for_host(c.connect_to, host))
        list = curl_slist_append(list, line.c_str());
      connect_to_by_host.emplace(std::move(host), list);
    }
    for (int i = 0; i < std::max(1, threads); ++i)
      this->threads.emplace_back([this] {
        {
          std::lock_guard lock(thread_ids_mutex);
          thread_ids.push_back(static_cast<int>(::syscall(SYS_gettid)));
        }
        ::pthread_setname_np(::pthread_self(), "sky-work");
        io.run();
      });
  }

  ~impl() {
    stop();
    for (auto& [fd, s] : sockets)
      s->descriptor.release(); // curl owns its sockets
    sockets.clear();
    curl_multi_cleanup(multi);
    curl_slist_free_all(connect_to);
    for (auto& [host, list] : connect_to_by_host)
      curl_slist_free_all(list);
  }

  // Tears down every transfer and waiting request (their callbacks get k_fetcher_stopped), lets
  // what they resumed finish, then stops the context. Requests posted before this run first, so
  // none is left behind.
  void stop() {
    {
      std::lock_guard lock(stop_mutex);
      stopped = true;
    }
    std::call_once(joined, [this] {
      asio::post(curl_side, [this] {
        stopping = true;
        for (auto& [id, w] : delayed) {
          w.wait->cancel();
          w.done(stopped_result());
        }
        delayed.clear();
        for (auto& [easy, t] : transfers) {
          curl_multi_remove_handle(multi, easy);
          curl_easy_cleanup(easy);
        }
        transfers.clear();
        running.clear();
        timer.cancel();
        guard.reset();
      });
      // Work the callbacks above resumed (a step ending with "fetcher stopped") runs to its end,
      // and the threads return once nothing is left; what still waits after a grace period (a
      // long wait of a job nobody cancelled) is abandoned and destroyed with the context.
      const auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (!io.stopped() && std::chrono::steady_clock::now() < grace)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      io.stop();
      for (auto& t : threads)
        t.join();
    });
  }

  config::fetch_config config;
  curl_slist* connect_to = nullptr;
  // Per host named in connect_to: the same list with that host's entries first (see
  // connect_to_for_host); empty when the list must be walked as written.
  std::unordered_map<std::string, curl_slist*> connect_to_by_host;
  std::mt19937_64 random{std::random_device{}()};
  ssrf_policy policy;
  host_schedule schedule_of_hosts; // per-host politeness, bounded
  std::mutex stop_mutex;
  bool stopped = false; // no more posts to io once set (guarded by stop_mutex)
  std::once_flag joined;
  std::atomic<fetch_id> next_id{1};
  // Declared after what work abandoned at a stop may still touch as it is destroyed with the
  // context, and before the I/O objects that must go first.
  asio::io_context io;
  // curl's multi handle is not thread-safe: everything that touches it runs on this strand,
  // while the context's other threads run the work that awaits fetches.
  asio::strand<asio::io_context::executor_type> curl_side;
  asio::steady_timer timer;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::vector<std::thread> threads;
  std::mutex thread_ids_mutex;
  std::vector<int> thread_ids; // kernel ids of `threads`, for the watchdog's reports
  CURLM* multi = nullptr;
  std::map<curl_socket_t, std::unique_ptr<watched_socket>> sockets;
  std::map<CURL*, std::unique_ptr<transfer>> transfers;
  std::unordered_map<fetch_id, CURL*> running; // the transfers by request
  // Requests waiting for their start (politeness or a retry's delay), by request. A stop or a
  // cancel completes them here, so no completion is left inside a timer's handler.
  struct waiting {
    std::shared_ptr<asio::steady_timer> wait;
    fetch_request request;
    completion done;
    int attempt = 0;
  };
  std::unordered_map<fetch_id, waiting> delayed;
  int still_running = 0;
  bool stopping = false; // no timer re-arming while transfers are torn down (curl side)

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
      slot = std::make_unique<watched_socket>(self->curl_side, fd);
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
      curl_multi_socket_action(self->multi, CURL_SOCKET_TIMEOUT, 0, &self->still_running);
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
    curl_multi_socket_action(multi, fd, flags, &still_running);
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
      running.erase(t->id);
      auto code = msg->data.result;
      finish(*t, code);
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
      if (auto delay = retry_delay(*t, code)) {
        retry_later(t->id, std::move(t->request), std::move(t->done), t->attempt + 1, *delay);
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
    if (t.request.cookies)
      t.request.cookies->merge(cookie_lines(t.easy));
  }

  // On the fetcher thread: a running transfer is torn down, a waiting one completes when its
  // wait is cancelled.
  void cancel(fetch_id id) {
    if (auto it = running.find(id); it != running.end()) {
      CURL* easy = it->second;
      running.erase(it);
      auto t = std::move(transfers.at(easy));
      transfers.erase(easy);
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
      t->done(cancelled_result());
      return;
    }
    if (auto it = delayed.find(id); it != delayed.end()) {
      auto w = std::move(it->second);
      delayed.erase(it);
      w.wait->cancel();
      w.done(cancelled_result());
    }
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

  void retry_later(fetch_id id, fetch_request request, completion done, int attempt,
                   std::chrono::milliseconds delay) {
    start_at(id, std::chrono::steady_clock::now() + delay, std::move(request), std::move(done),
             attempt);
  }

  // Starts the transfer at `at`, unless the fetcher stops or the request is cancelled first.
  void start_at(fetch_id id, std::chrono::steady_clock::time_point at, fetch_request request,
                completion done, int attempt) {
    auto wait = std::make_shared<asio::steady_timer>(curl_side, at);
    delayed.insert_or_assign(id, waiting{wait, std::move(request), std::move(done), attempt});
    wait->async_wait([this, id](boost::system::error_code ec) {
      auto it = delayed.find(id);
      if (ec || it == delayed.end() || stopping)
        return; // completed by a cancel or the stop
      auto w = std::move(it->second);
      delayed.erase(it);
      start(id, std::move(w.request), std::move(w.done), w.attempt);
    });
  }

  curl_slist* connect_to_for(const std::string& url) const {
    if (connect_to_by_host.empty())
      return connect_to;
    auto parsed = parse_web_url(url);
    auto it = parsed ? connect_to_by_host.find(parsed->host) : connect_to_by_host.end();
    return it == connect_to_by_host.end() ? connect_to : it->second;
  }

  // Spaces requests to one host by per_host_delay, then starts the transfer.
  void schedule(fetch_id id, fetch_request request, completion done) {
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
      start(id, std::move(request), std::move(done), 0);
    else
      start_at(id, at, std::move(request), std::move(done), 0);
  }

  void start(fetch_id id, fetch_request request, completion done, int attempt) {
    auto t = std::make_unique<transfer>();
    t->owner = this;
    t->id = id;
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
      curl_easy_setopt(e, CURLOPT_CONNECT_TO, connect_to_for(r.url));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    // With a CA directory set (Debian's default), curl reads and parses the whole CA bundle for
    // every new TLS connection (about 40 ms of CPU); the bundle alone is cached across them.
    curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
    if (r.cookies) {
      curl_easy_setopt(e, CURLOPT_COOKIEFILE, ""); // this handle's cookie engine, empty
      for (const auto& line : r.cookies->lines())
        curl_easy_setopt(e, CURLOPT_COOKIELIST, line.c_str());
    }
    running.emplace(id, e);
    transfers.emplace(e, std::move(t));
    curl_multi_add_handle(multi, e);
  }
};

fetcher::fetcher(const config::fetch_config& config, int threads)
    : impl_(std::make_unique<impl>(config, threads)) {}

boost::asio::io_context& fetcher::context() {
  return impl_->io;
}

fetcher::~fetcher() {
  stop();
}

void fetcher::stop() {
  impl_->stop();
}

std::vector<int> fetcher::thread_ids() const {
  std::lock_guard lock(impl_->thread_ids_mutex);
  return impl_->thread_ids;
}

fetch_id fetcher::fetch(fetch_request request, std::function<void(fetch_result)> done) {
  completion callback(std::move(done));
  const fetch_id id = impl_->next_id++;
  {
    // Checked and posted under the lock: once stop() has set the flag nothing more is posted,
    // so every posted request runs before the fetcher thread ends.
    std::lock_guard lock(impl_->stop_mutex);
    if (!impl_->stopped) {
      asio::post(impl_->curl_side, [owner = impl_.get(), id, request = std::move(request),
                                    callback = std::move(callback)]() mutable {
        owner->schedule(id, std::move(request), std::move(callback));
      });
      return id;
    }
  }
  callback(stopped_result());
  return id;
}

fetch_id fetcher::fetch(std::string url, std::function<void(fetch_result)> done,
                        std::optional<std::size_t> max_bytes) {
  return fetch(fetch_request{std::move(url), std::nullopt, {}, max_bytes, nullptr},
               std::move(done));
}

void fetcher::cancel(fetch_id id) {
  std::lock_guard lock(impl_->stop_mutex);
  if (!impl_->stopped)
    asio::post(impl_->curl_side, [owner = impl_.get(), id] { owner->cancel(id); });
}

} // namespace sky::scrape
