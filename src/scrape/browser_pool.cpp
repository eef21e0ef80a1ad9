// The browser pool: Chromium processes, their DevTools websockets, and one browser context per
// rendered page. Everything a page asks the network for is answered through the job's
// fetch_session; the browser's own network stack only ever meets a closed proxy.
#include "scrape/browser_pool.hpp"

#include "scrape/url_rules.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sky::scrape {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

namespace {

// Standard base64 (with padding), as the Fetch domain takes bodies.
std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

std::string without_fragment(std::string_view url) {
  return std::string(url.substr(0, url.find('#')));
}

// The same document, whatever the fragment or the browser's normalisation ("http://a" is
// requested as "http://a/").
bool same_page(std::string_view a, std::string_view b) {
  auto pa = parse_web_url(without_fragment(a));
  auto pb = parse_web_url(without_fragment(b));
  return pa && pb ? pa->normalized == pb->normalized : without_fragment(a) == without_fragment(b);
}

std::string host_of(std::string_view url) {
  auto parsed = parse_web_url(url);
  return parsed ? parsed->host : std::string();
}

std::string text_of(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// What a DevTools command answered: its result, or why there is none.
struct cdp_reply {
  json::object result;
  std::string error;
};

// One browser's DevTools websocket. Commands are matched to their answers by id; events are
// routed to the page session they name. All state lives on the connection's strand.
class cdp_connection : public std::enable_shared_from_this<cdp_connection> {
public:
  using event_sink = std::function<void(const std::string& method, const json::object& params)>;

  cdp_connection(asio::io_context& context, std::size_t max_message)
      : strand_(asio::make_strand(context)), ws_(strand_) {
    ws_.read_message_max(max_message);
  }

  // "" once connected, else why not.
  asio::awaitable<std::string> open(int port, std::string path) {
    try {
      auto& tcp = beast::get_lowest_layer(ws_);
      tcp.expires_after(5s);
      co_await tcp.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                                         static_cast<unsigned short>(port)),
                                 asio::use_awaitable);
      tcp.expires_never();
      auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
      timeouts.handshake_timeout = 5s;
      ws_.set_option(timeouts);
      co_await ws_.async_handshake("127.0.0.1:" + std::to_string(port), path, asio::use_awaitable);
    } catch (const std::exception& e) {
      co_return std::string("DevTools connection failed: ") + e.what();
    }
    asio::dispatch(strand_, [self = shared_from_this()] { self->read(); });
    co_return std::string();
  }

  // `done` is called once, on the strand: with the answer, or an error (closed, timed out).
  void call(std::string method, json::object params, std::string session,
            std::chrono::milliseconds timeout, std::function<void(cdp_reply)> done) {
    asio::dispatch(strand_, [self = shared_from_this(), method = std::move(method),
                             params = std::move(params), session = std::move(session), timeout,
                             done = std::move(done)]() mutable {
      if (self->closed_) {
        done({{}, self->closed_why_});
        return;
      }
      const auto id = self->next_id_++;
      auto timer = std::make_shared<asio::steady_timer>(self->strand_, timeout);
      self->pending_.emplace(id, pending_call{std::move(done), timer});
      timer->async_wait([self, id](boost::system::error_code ec) {
        if (ec)
          return;
        auto it = self->pending_.find(id);
        if (it == self->pending_.end())
          return;
        auto finish = std::move(it->second.done);
        self->pending_.erase(it);
        finish({{}, "the browser did not answer in time"});
      });
      self->enqueue(id, method, std::move(params), session);
    });
  }

  // A command whose answer nobody waits for.
  void send(std::string method, json::object params, std::string session) {
    asio::dispatch(strand_, [self = shared_from_this(), method = std::move(method),
                             params = std::move(params), session = std::move(session)]() mutable {
      if (!self->closed_)
        self->enqueue(self->next_id_++, method, std::move(params), session);
    });
  }

  void subscribe(const std::string& session, event_sink sink) {
    asio::dispatch(strand_, [self = shared_from_this(), session, sink = std::move(sink)]() mutable {
      if (self->closed_)
        sink("sky.closed", {});
      else
        self->sinks_[session] = std::move(sink);
    });
  }

  void unsubscribe(const std::string& session) {
    asio::dispatch(strand_, [self = shared_from_this(), session] { self->sinks_.erase(session); });
  }

  void close(std::string why) {
    asio::dispatch(strand_, [self = shared_from_this(), why = std::move(why)] { self->shut(why); });
  }

  bool closed() const { return closed_flag_.load(std::memory_order_acquire); }
  // Why it closed; "" while open. (Written once, before the flag.)
  std::string closed_reason() const { return closed() ? closed_why_ : std::string(); }

private:
  struct pending_call {
    std::function<void(cdp_reply)> done;
    std::shared_ptr<asio::steady_timer> timer;
  };

  void enqueue(std::int64_t id, const std::string& method, json::object params,
               const std::string& session) {
    json::object message{{"id", id}, {"method", method}, {"params", std::move(params)}};
    if (!session.empty())
      message["sessionId"] = session;
    outbox_.push_back(json::serialize(message));
    write();
  }

  void write() {
    if (writing_ || outbox_.empty() || closed_)
      return;
    writing_ = true;
    ws_.async_write(asio::buffer(outbox_.front()),
                    asio::bind_executor(strand_, [self = shared_from_this()](
                                                     boost::system::error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (!self->outbox_.empty())
                        self->outbox_.pop_front();
                      if (ec) {
                        self->shut("the browser's connection failed: " + ec.message());
                        return;
                      }
                      self->write();
                    }));
  }

  void read() {
    ws_.async_read(inbox_,
                   asio::bind_executor(strand_, [self = shared_from_this()](
                                                    boost::system::error_code ec, std::size_t) {
                     if (ec) {
                       self->shut("the browser's connection closed: " + ec.message());
                       return;
                     }
                     self->dispatch_message();
                     self->read();
                   }));
  }

  void dispatch_message() {
    boost::system::error_code ec;
    auto value = json::parse(beast::buffers_to_string(inbox_.data()), ec);
    inbox_.consume(inbox_.size());
    if (ec || !value.is_object())
      return;
    auto& message = value.as_object();
    if (auto* id = message.if_contains("id"); id && id->is_int64()) {
      auto it = pending_.find(id->as_int64());
      if (it == pending_.end())
        return;
      auto call = std::move(it->second);
      pending_.erase(it);
      call.timer->cancel();
      cdp_reply reply;
      if (auto* error = message.if_contains("error"); error && error->is_object())
        reply.error = "DevTools: " + text_of(error->as_object(), "message");
      else if (auto* result = message.if_contains("result"); result && result->is_object())
        reply.result = std::move(result->as_object());
      call.done(std::move(reply));
      return;
    }
    const auto method = text_of(message, "method");
    auto it = sinks_.find(text_of(message, "sessionId"));
    if (method.empty() || it == sinks_.end())
      return;
    auto* params = message.if_contains("params");
    it->second(method, params && params->is_object() ? params->as_object() : json::object());
  }

  void shut(const std::string& why) {
    if (closed_)
      return;
    closed_ = true;
    closed_why_ = why;
    closed_flag_.store(true, std::memory_order_release);
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, call] : pending) {
      call.timer->cancel();
      call.done({{}, why});
    }
    auto sinks = std::move(sinks_);
    sinks_.clear();
    for (auto& [session, sink] : sinks)
      sink("sky.closed", {});
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  asio::strand<asio::io_context::executor_type> strand_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer inbox_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  std::int64_t next_id_ = 1;
  std::unordered_map<std::int64_t, pending_call> pending_;
  std::unordered_map<std::string, event_sink> sinks_;
  bool closed_ = false;
  std::string closed_why_;
  std::atomic<bool> closed_flag_{false};
};

// Awaits one DevTools command.
asio::awaitable<cdp_reply> command(const std::shared_ptr<cdp_connection>& conn, std::string method,
                                   json::object params, std::string session,
                                   std::chrono::milliseconds timeout) {
  auto start = [&](std::function<void(cdp_reply)> done) {
    conn->call(std::move(method), std::move(params), std::move(session), timeout, std::move(done));
  };
  co_return co_await await_callback<cdp_reply>(start);
}

asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// Memory of every process in a process group (a browser and its renderers), in bytes: the
// proportional set size, so that libraries the processes share are counted once.
std::uint64_t group_memory(pid_t group) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line))
      continue;
    auto close = line.rfind(')');
    if (close == std::string::npos)
      continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (!(rest >> state >> ppid >> pgrp) || pgrp != group)
      continue;
    std::ifstream rollup(entry.path() / "smaps_rollup");
    for (std::string key; rollup >> key;) {
      std::uint64_t kb = 0;
      if (key == "Pss:" && rollup >> kb) {
        total += kb << 10;
        break;
      }
      rollup.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
  }
  return total;
}

// A page being rendered, as its DevTools events see it (on the connection's strand) and as the
// render coroutine polls it.
struct page_state {
  std::string url, host, html, session;
  std::shared_ptr<fetch_session> fetches;
  std::weak_ptr<cdp_connection> conn;
  int max_requests = 0;
  std::atomic<int> requests{0}, blocked{0}, guarded{0}, dialogs{0}, in_flight{0};
  std::atomic<bool> loaded{false}, gone{false}, served{false};
  std::atomic<clock::rep> last_request{0};
};

// Resource types a page never needs for its text and links.
bool unwanted(std::string_view type) {
  return type == "Image" || type == "Media" || type == "Font" || type == "Manifest" ||
         type == "Ping" || type == "CSPViolationReport" || type == "Prefetch" ||
         type == "SignedExchange" || type == "WebSocket" || type == "EventSource" ||
         type == "TextTrack";
}

void fulfill(const std::shared_ptr<cdp_connection>& conn, const std::string& session,
             const std::string& request_id, long status, const std::string& content_type,
             std::string_view body) {
  json::array headers;
  if (!content_type.empty())
    headers.push_back(json::object{{"name", "Content-Type"}, {"value", content_type}});
  conn->send("Fetch.fulfillRequest",
             json::object{{"requestId", request_id},
                          {"responseCode", status >= 100 && status <= 599 ? status : 200},
                          {"responseHeaders", std::move(headers)},
                          {"body", base64(body)}},
             session);
}

void refuse(const std::shared_ptr<cdp_connection>& conn, page_state& page,
            const std::string& request_id, std::string_view reason) {
  ++page.blocked;
  conn->send("Fetch.failRequest",
             json::object{{"requestId", request_id}, {"errorReason", std::string(reason)}},
             page.session);
}

// A paused request: served from the page's HTTP read, fetched through the job's session, or
// refused. Runs on the connection's strand; fetches continue on the session's context.
void on_request(const std::shared_ptr<page_state>& page, const json::object& params,
                asio::any_io_executor work) {
  auto conn = page->conn.lock();
  if (!conn)
    return;
  const auto id = text_of(params, "requestId");
  const auto type = text_of(params, "resourceType");
  auto* request = params.if_contains("request");
  if (!request || !request->is_object())
    return refuse(conn, *page, id, "Failed");
  const auto url = text_of(request->as_object(), "url");
  const auto method = text_of(request->as_object(), "method");
  ++page->requests;
  page->last_request.store(clock::now().time_since_epoch().count());
  if (type == "Document" && same_page(url, page->url) && !page->served.exchange(true))
    return fulfill(conn, page->session, id, 200, "text/html; charset=utf-8", page->html);
  if (unwanted(type) || method != "GET")
    return refuse(conn, *page, id, "BlockedByClient");
  // The page stays on its site: a navigation elsewhere is answered "204 No Content", which a
  // browser takes as "stay where you are" (a refusal would replace the page with an error page).
  // Subresources may come from other hosts, through the same guard as every fetch.
  if (type == "Document" && host_of(url) != page->host) {
    ++page->blocked;
    return fulfill(conn, page->session, id, 204, "", "");
  }
  if (page->requests > page->max_requests + 1) // (+1: the document itself)
    return refuse(conn, *page, id, "BlockedByClient");
  ++page->in_flight;
  asio::co_spawn(
      work,
      [page, id, url]() -> asio::awaitable<void> {
        auto r = co_await page->fetches->fetch(url);
        if (auto conn = page->conn.lock()) {
          if (r.blocked)
            ++page->guarded;
          if (!r.ok() || r.status == 0)
            refuse(conn, *page, id, r.blocked ? "AddressUnreachable" : "Failed");
          else
            fulfill(conn, page->session, id, r.status, r.content_type, r.body);
        }
        --page->in_flight;
      },
      asio::detached);
}

json::object intercept_everything() {
  json::array patterns;
  patterns.push_back(json::object{{"urlPattern", "*"}, {"requestStage", "Request"}});
  return json::object{{"patterns", std::move(patterns)}};
}

// Reads the rendered document back, at most `chars` UTF-16 units of it.
json::object read_document(std::size_t chars, std::chrono::milliseconds timeout) {
  const auto cap = std::to_string(chars);
  // Cut where a character ends: half a surrogate pair is not JSON the reader accepts.
  return json::object{{"expression", "(() => { const d = document.documentElement; if (!d) "
                                     "return ''; let h = d.outerHTML; if (h.length > " +
                                         cap + ") { h = h.slice(0, " + cap +
                                         "); const c = h.charCodeAt(h.length - 1); if (c >= "
                                         "0xD800 && c <= 0xDBFF) h = h.slice(0, -1); } return "
                                         "h; })()"},
                      {"returnByValue", true},
                      {"timeout", timeout.count()}};
}

// The page's DevTools events, on the connection's strand.
void subscribe(const std::shared_ptr<cdp_connection>& conn, const std::shared_ptr<page_state>& page,
               asio::any_io_executor work) {
  std::weak_ptr<page_state> weak = page;
  conn->subscribe(
      page->session, [weak, work](const std::string& method, const json::object& params) {
        auto p = weak.lock();
        if (!p)
          return;
        if (method == "Fetch.requestPaused") {
          on_request(p, params, work);
        } else if (method == "Page.loadEventFired") {
          p->loaded = true;
        } else if (method == "Page.javascriptDialogOpening") {
          ++p->dialogs;
          if (auto c = p->conn.lock())
            c->send("Page.handleJavaScriptDialog", json::object{{"accept", false}}, p->session);
        } else if (method == "Inspector.targetCrashed" || method == "sky.closed") {
          p->gone = true;
        }
      });
}

} // namespace

std::string find_browser(const std::string& configured) {
  const auto executable = [](const std::string& path) { return access(path.c_str(), X_OK) == 0; };
  if (!configured.empty())
    return executable(configured) ? configured : std::string();
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (std::string name : {"chromium-headless-shell", "chromium", "chromium-browser"}) {
    std::size_t start = 0;
    while (start <= dirs.size()) {
      auto end = dirs.find(':', start);
      auto dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (!dir.empty() && executable(dir + "/" + name))
        return dir + "/" + name;
      if (end == std::string::npos)
        break;
      start = end + 1;
    }
  }
  return {};
}

struct browser_pool::impl : std::enable_shared_from_this<impl> {
  enum class state { down, starting, up };
  struct browser {
    state status = state::down;
    pid_t pid = 0;
    std::string dir;
    std::shared_ptr<cdp_connection> conn;
    int active = 0;
    bool ever_started = false;
    bool retiring = false; // hung or closed: no new page; killed once its pages are gone
  };

  // What is left to kill of a browser taken out of its slot: done outside the pool's lock
  // (waiting for the process and removing its profile take time).
  struct remains {
    pid_t pid = 0;
    std::string dir;
    std::shared_ptr<cdp_connection> conn;
  };

  impl(const config::render_config& c, asio::io_context& ctx)
      : config(c), context(ctx), path(find_browser(c.browser)),
        browsers(static_cast<std::size_t>(std::max(1, c.browsers))) {}

  ~impl() {
    for (auto& b : browsers)
      bury(take_out(b));
  }

  config::render_config config;
  asio::io_context& context;
  std::string path;
  mutable std::mutex mutex;
  std::vector<browser> browsers;
  bool stopped = false;
  bool watching = false;
  std::atomic<std::uint64_t> started{0}, restarted{0}, rendered{0}, failed{0}, memory{0},
      peak_memory{0};

  // Empties a browser's slot (under `mutex`, or alone); its remains are buried afterwards.
  static remains take_out(browser& b) {
    remains r{b.pid, std::move(b.dir), std::move(b.conn)};
    b.pid = 0;
    b.dir.clear();
    b.conn.reset();
    b.status = state::down;
    b.retiring = false;
    return r;
  }

  // Kills a browser's process group, reaps it and removes its profile. Never under `mutex`.
  static void bury(remains r) {
    if (r.conn)
      r.conn->close("the browser was stopped");
    if (r.pid > 0) {
      ::kill(-r.pid, SIGKILL);
      ::kill(r.pid, SIGKILL);
      ::waitpid(r.pid, nullptr, 0);
    }
    if (!r.dir.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(r.dir, ignored);
    }
  }

  static bool usable(const browser& b) {
    return b.status == state::up && !b.retiring && b.conn && !b.conn->closed();
  }

  // Starts Chromium with its DevTools on a loopback port of its choice; returns its pid.
  pid_t spawn(const std::string& dir) {
    std::vector<std::string> args{
        path, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--disable-default-apps", "--disable-dev-shm-usage", "--mute-audio",
        "--hide-scrollbars",
        "--block-new-web-contents", // window.open makes nothing
        "--blink-settings=imagesEnabled=false", "--js-flags=--max-old-space-size=512",
        // Every request is answered through the DevTools Fetch domain; anything that were not
        // would meet a closed proxy, loopback included.
        "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
        // WebRTC sends UDP past any proxy: none that is not proxied.
        "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
        "--webrtc-ip-handling-policy=disable_non_proxied_udp",
        "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
        "--user-data-dir=" + dir, "about:blank"};
    // The renderer sandbox needs user namespaces that a root process in a container lacks.
    if (geteuid() == 0)
      args.insert(args.begin() + 1, "--no-sandbox");
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    const int max_fd = static_cast<int>(std::min<long>(sysconf(_SC_OPEN_MAX), 1 << 16));
    const pid_t pid = fork();
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec.
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGKILL); // the browser never outlives the server
      const int null = open("/dev/null", O_RDWR);
      if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
      }
      // The server's sockets (clients, listeners, fetches) must not live on in the browser:
      // a connection the server closes would otherwise stay open.
      if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
        for (int fd = 3; fd < max_fd; ++fd)
          close(fd);
      execv(argv[0], argv.data());
      _exit(127);
    }
    if (pid > 0)
      setpgid(pid, pid);
    return pid;
  }

  // Launches browser `index` (its slot is marked starting by the caller); "" or why not.
  asio::awaitable<std::string> launch(std::size_t index) {
    char tmpl[] = "/tmp/sky-browser-XXXXXX";
    if (!mkdtemp(tmpl))
      co_return std::string("could not make a browser profile directory");
    const std::string dir = tmpl;
    const pid_t pid = spawn(dir);
    if (pid <= 0) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
      co_return std::string("could not start the browser");
    }
    browser fresh;
    fresh.pid = pid;
    fresh.dir = dir;
    // Chromium names its DevTools port and path in this file once it listens.
    int port = 0;
    std::string ws_path;
    for (auto until = clock::now() + 20s; clock::now() < until;) {
      std::ifstream active(dir + "/DevToolsActivePort");
      if (active >> port >> ws_path && port > 0 && !ws_path.empty())
        break;
      port = 0;
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        fresh.pid = 0;
        break;
      }
      co_await pause(20ms);
    }
    std::string error;
    if (port == 0) {
      error = "the browser did not start (" + path + ")";
    } else {
      // The document comes back as JSON text: up to six bytes per UTF-16 unit as \uXXXX.
      fresh.conn = std::make_shared<cdp_connection>(context, config.max_html_bytes * 3 + (8 << 20));
      error = co_await fresh.conn->open(port, ws_path);
    }
    std::unique_lock lock(mutex);
    auto& b = browsers[index];
    if (!error.empty() || stopped) {
      b.status = state::down;
      lock.unlock();
      bury(take_out(fresh));
      co_return error.empty() ? std::string("the browser pool stopped") : error;
    }
    b.pid = fresh.pid;
    b.dir = fresh.dir;
    b.conn = fresh.conn;
    b.status = state::up;
    if (b.ever_started)
      ++restarted;
    b.ever_started = true;
    ++started;
    spdlog::info("render: browser {} started (pid {})", index, b.pid);
    co_return std::string();
  }

  struct lease {
    int index = -1;
    std::shared_ptr<cdp_connection> conn;
    std::string error;
  };

  // A browser with room for one more page, started if need be, and its connection; or why not.
  asio::awaitable<lease> acquire(clock::time_point until) {
    for (;;) {
      int chosen = -1;
      bool must_launch = false;
      std::shared_ptr<cdp_connection> conn;
      std::vector<remains> dead;
      {
        std::lock_guard lock(mutex);
        if (stopped)
          co_return lease{-1, nullptr, "the browser pool stopped"};
        // A browser whose connection died (a crash, the memory cap) or that hung is taken out
        // once its pages are gone.
        for (auto& b : browsers)
          if (b.status == state::up && !usable(b) && b.active == 0)
            dead.push_back(take_out(b));
        for (std::size_t i = 0; i < browsers.size() && chosen < 0; ++i)
          if (usable(browsers[i]) && browsers[i].active < config.pages_per_browser)
            chosen = static_cast<int>(i);
        for (std::size_t i = 0; i < browsers.size() && chosen < 0; ++i)
          if (browsers[i].status == state::down) {
            chosen = static_cast<int>(i);
            browsers[i].status = state::starting;
            must_launch = true;
          }
        if (chosen >= 0 && !must_launch) {
          ++browsers[static_cast<std::size_t>(chosen)].active;
          conn = browsers[static_cast<std::size_t>(chosen)].conn;
        }
      }
      for (auto& r : dead)
        bury(std::move(r));
      if (must_launch) {
        auto error = co_await launch(static_cast<std::size_t>(chosen));
        if (!error.empty())
          co_return lease{-1, nullptr, error};
        continue; // taken like any running browser, so that the count stays in one place
      }
      if (chosen >= 0)
        co_return lease{chosen, std::move(conn), {}};
      if (clock::now() >= until)
        co_return lease{-1, nullptr, "no browser was free in time"};
      co_await pause(50ms);
    }
  }

  void release(int index, bool hung) {
    remains dead;
    {
      std::lock_guard lock(mutex);
      auto& b = browsers[static_cast<std::size_t>(index)];
      --b.active;
      if (hung && b.conn) {
        b.retiring = true; // no new page until it is gone
        b.conn->close("the browser stopped answering");
      }
      if (b.status == state::up && !usable(b) && b.active == 0)
        dead = take_out(b);
    }
    bury(std::move(dead));
  }

  // The memory cap: a browser above it is closed; its pages end with that reason.
  asio::awaitable<void> watch_memory() {
    auto self = shared_from_this();
    for (;;) {
      co_await pause(1s);
      std::vector<std::pair<pid_t, std::shared_ptr<cdp_connection>>> running;
      {
        std::lock_guard lock(mutex);
        if (stopped)
          co_return;
        for (const auto& b : browsers)
          if (b.status == state::up && b.pid > 0)
            running.emplace_back(b.pid, b.conn);
      }
      // /proc is read without the lock: pages come and go meanwhile.
      std::uint64_t total = 0;
      for (const auto& [pid, conn] : running) {
        const auto bytes = group_memory(pid);
        total += bytes;
        if (bytes > static_cast<std::uint64_t>(config.browser_max_mb) << 20 && conn &&
            !conn->closed()) {
          spdlog::warn("render: browser pid {} uses {} MB, above RENDER_BROWSER_MAX_MB; "
                       "restarting it",
                       pid, bytes >> 20);
          conn->close("the browser went over its memory cap (" + std::to_string(bytes >> 20) +
                      " MB)");
        }
      }
      memory = total;
      if (total > peak_memory)
        peak_memory = total;
    }
  }

  void start_watching() {
    std::lock_guard lock(mutex);
    if (watching || stopped)
      return;
    watching = true;
    asio::co_spawn(context, shared_from_this()->watch_memory(), asio::detached);
  }

  asio::awaitable<render_result> render(std::shared_ptr<fetch_session> fetches,
                                        render_request request) {
    const auto begun = clock::now();
    render_result out;
    auto finish = [&](std::string error) {
      out.error = std::move(error);
      out.seconds = std::chrono::duration<double>(clock::now() - begun).count();
      (out.ok() ? rendered : failed)++;
      return out;
    };
    if (path.empty())
      co_return finish("no browser binary (set RENDER_BROWSER, or install chromium)");
    start_watching();
    auto taken = co_await acquire(clock::now() + config.slot_wait);
    if (taken.index < 0)
      co_return finish(taken.error);
    const auto conn = std::move(taken.conn);
    // The slot goes back whatever happens below, a hung browser retired with it.
    bool hung = false;
    struct slot_guard {
      impl* pool;
      int index;
      const bool& hung;
      ~slot_guard() { pool->release(index, hung); }
    } slot{this, taken.index, hung};
    const auto deadline = clock::now() + config.page_timeout;
    const auto left = [&] {
      return std::max(
          std::chrono::milliseconds(1),
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
    };
    auto page = std::make_shared<page_state>();
    page->url = request.url;
    page->host = host_of(request.url);
    page->html = std::move(request.html);
    page->fetches = std::move(fetches);
    page->conn = conn;
    page->max_requests = config.max_requests;
    std::string context_id, failure;
    // (Each command's parameters are built in a statement of their own: GCC 12 cannot keep a
    // braced list's array in a coroutine frame across the co_await beside it.)
    do {
      json::object params{{"disposeOnDetach", true}};
      auto created =
          co_await command(conn, "Target.createBrowserContext", std::move(params), "", left());
      if (!created.error.empty()) {
        failure = created.error;
        break;
      }
      context_id = text_of(created.result, "browserContextId");
      params = json::object{{"behavior", "deny"}, {"browserContextId", context_id}};
      co_await command(conn, "Browser.setDownloadBehavior", std::move(params), "", left());
      params = json::object{{"url", "about:blank"}, {"browserContextId", context_id}};
      auto target = co_await command(conn, "Target.createTarget", std::move(params), "", left());
      if (!target.error.empty()) {
        failure = target.error;
        break;
      }
      params = json::object{{"targetId", text_of(target.result, "targetId")}, {"flatten", true}};
      auto attached =
          co_await command(conn, "Target.attachToTarget", std::move(params), "", left());
      if (!attached.error.empty()) {
        failure = attached.error;
        break;
      }
      page->session = text_of(attached.result, "sessionId");
      auto work = co_await asio::this_coro::executor;
      subscribe(conn, page, work);
      static constexpr std::array<std::string_view, 3> k_domains{"Fetch.enable", "Page.enable",
                                                                 "Inspector.enable"};
      for (const auto domain : k_domains) {
        params = domain == "Fetch.enable" ? intercept_everything() : json::object();
        auto r =
            co_await command(conn, std::string(domain), std::move(params), page->session, left());
        if (!r.error.empty()) {
          failure = r.error;
          break;
        }
      }
      if (!failure.empty())
        break;
      params = json::object{{"url", page->url}};
      auto navigated =
          co_await command(conn, "Page.navigate", std::move(params), page->session, left());
      if (!navigated.error.empty()) {
        failure = navigated.error;
        break;
      }
      if (auto text = text_of(navigated.result, "errorText"); !text.empty()) {
        failure = "the page did not load: " + text;
        break;
      }
      // Loaded, then settled: no subresource in flight and none asked for within 200 ms (at
      // most 2 s more), so that scripts run after load have written what they write. A page
      // that never finishes loading (a script that never comes, a navigation held off) is read
      // as it stands once a fifth of its time is left.
      const auto read_by =
          deadline - std::max<clock::duration>(
                         1s, std::chrono::duration_cast<clock::duration>(config.page_timeout / 5));
      // A job cancelled meanwhile stops waiting at once.
      const auto cancelled = [&] { return page->fetches->cancelled(); };
      while (!page->loaded && !page->gone && !cancelled() && clock::now() < read_by)
        co_await pause(20ms);
      const auto settle_until = std::min(read_by, clock::now() + 2s);
      while (!page->gone && !cancelled() && clock::now() < settle_until) {
        const auto quiet = clock::now() - clock::time_point(clock::duration(page->last_request));
        if (page->in_flight == 0 && quiet >= 200ms)
          break;
        co_await pause(20ms);
      }
      if (page->gone) {
        failure = conn->closed() ? conn->closed_reason() : "the page crashed";
        break;
      }
      if (cancelled()) {
        failure = "the job was cancelled";
        break;
      }
      params = read_document(config.max_html_bytes / 2, left());
      auto read =
          co_await command(conn, "Runtime.evaluate", std::move(params), page->session, left());
      if (!read.error.empty()) {
        // A page whose script never yields (while(true)) cannot be read: its time is up.
        failure = clock::now() >= deadline ? "the page did not finish within RENDER_PAGE_TIMEOUT_MS"
                                           : read.error;
        break;
      }
      auto* result = read.result.if_contains("result");
      if (!result || !result->is_object() || !result->as_object().contains("value") ||
          !result->as_object().at("value").is_string()) {
        failure = "the page's document could not be read";
        break;
      }
      out.html = std::string(result->as_object().at("value").as_string());
      if (out.html.size() > config.max_html_bytes) {
        auto cut = config.max_html_bytes;
        while (cut > 0 && (static_cast<unsigned char>(out.html[cut]) & 0xC0) == 0x80)
          --cut; // not inside a UTF-8 sequence
        out.html.resize(cut);
      }
    } while (false);
    if (!page->session.empty())
      conn->unsubscribe(page->session);
    if (!context_id.empty() && !conn->closed()) {
      // Closes the page and everything it opened; a browser that cannot do that is hung.
      json::object params{{"browserContextId", context_id}};
      auto disposed =
          co_await command(conn, "Target.disposeBrowserContext", std::move(params), "", 5000ms);
      hung = !disposed.error.empty() && !conn->closed();
    }
    if (failure.empty() && clock::now() > deadline)
      failure = "the page did not finish within RENDER_PAGE_TIMEOUT_MS";
    page->conn.reset();
    out.requests = page->requests;
    out.blocked = page->blocked;
    out.refused_by_guard = page->guarded;
    out.dialogs = page->dialogs;
    if (!failure.empty())
      out.html.clear();
    co_return finish(failure);
  }
};

browser_pool::browser_pool(const config::render_config& config, asio::io_context& context)
    : impl_(std::make_shared<impl>(config, context)) {}

browser_pool::~browser_pool() {
  stop();
}

bool browser_pool::available() const {
  return !impl_->path.empty();
}

const std::string& browser_pool::browser_path() const {
  return impl_->path;
}

asio::awaitable<render_result> browser_pool::render(fetch_session& session,
                                                    render_request request) {
  auto self = impl_;
  co_return co_await self->render(session.shared_from_this(), std::move(request));
}

void browser_pool::stop() {
  std::vector<impl::remains> dead;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopped = true;
    for (auto& b : impl_->browsers)
      if (b.status == impl::state::up)
        dead.push_back(impl::take_out(b));
  }
  for (auto& r : dead)
    impl::bury(std::move(r));
}

render_stats browser_pool::stats() const {
  return {impl_->started, impl_->restarted, impl_->rendered,
          impl_->failed,  impl_->memory,    impl_->peak_memory};
}

std::vector<int> browser_pool::browser_pids() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<int> pids;
  for (const auto& b : impl_->browsers)
    if (b.status == impl::state::up && b.pid > 0)
      pids.push_back(b.pid);
  return pids;
}

} // namespace sky::scrape
