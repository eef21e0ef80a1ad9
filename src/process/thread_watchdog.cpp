// The watchdog's thread: every interval it posts a heartbeat into each pool that has none
// outstanding, and judges the pools whose heartbeat has not run.
#include "process/thread_watchdog.hpp"

#include "process/exit_codes.hpp"
#include "process/timer_thread.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <execinfo.h>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sstream>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

namespace sky::process {

// ---- heartbeat_monitor ----

std::optional<std::uint64_t> heartbeat_monitor::post(watchdog_clock::time_point now) {
  if (outstanding_)
    return std::nullopt;
  outstanding_ = next_++;
  posted_at_ = now;
  return outstanding_;
}

void heartbeat_monitor::ran(std::uint64_t sequence) {
  if (outstanding_ == sequence)
    outstanding_.reset();
}

void heartbeat_monitor::progress(std::uint64_t finished, watchdog_clock::time_point now) {
  if (finished_ != finished) {
    finished_ = finished;
    progressed_at_ = now;
  }
}

std::chrono::milliseconds heartbeat_monitor::silent_for(watchdog_clock::time_point now) const {
  if (!outstanding_)
    return std::chrono::milliseconds(0);
  auto since = finished_ ? std::max(posted_at_, progressed_at_) : posted_at_;
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - since);
}

// ---- what a thread is doing ----

int current_thread_id() {
  return static_cast<int>(::syscall(SYS_gettid));
}

void name_this_thread(const char* name) {
  char shortened[16]{}; // the kernel keeps 15 characters
  std::snprintf(shortened, sizeof shortened, "%s", name);
  ::pthread_setname_np(::pthread_self(), shortened);
}

namespace {

// A backtrace is taken by the thread itself, in a signal handler that writes the frames to a
// pipe (backtrace_symbols_fd allocates nothing). The write end is non-blocking, so a full pipe
// loses frames instead of blocking the thread.
std::atomic<int> trace_write_fd{-1};
int trace_read_fd = -1;
constexpr std::string_view k_trace_end = "--end--\n";

int trace_signal() {
  return SIGRTMIN + 3;
}

void on_trace_signal(int) {
  const int saved = errno;
  const int fd = trace_write_fd.load();
  if (fd >= 0) {
    void* frames[48];
    const int n = ::backtrace(frames, 48);
    ::backtrace_symbols_fd(frames, n, fd);
    auto ignored = ::write(fd, k_trace_end.data(), k_trace_end.size());
    (void)ignored;
  }
  errno = saved;
}

void install_trace_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
      return;
    trace_read_fd = fds[0];
    trace_write_fd = fds[1];
    // backtrace() loads libgcc's unwinder on its first call, which allocates: never first inside
    // a signal handler.
    void* warm[4];
    ::backtrace(warm, 4);
    struct sigaction action {};
    action.sa_handler = &on_trace_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(trace_signal(), &action, nullptr);
  });
}

std::string read_proc(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0'))
    text.pop_back();
  return text;
}

// The backtrace of thread `tid` of this process, or empty when it did not answer in time.
std::string backtrace_of(int tid) {
  static std::mutex one_at_a_time;
  std::lock_guard lock(one_at_a_time);
  if (trace_read_fd < 0)
    return {};
  char buffer[4096];
  while (::read(trace_read_fd, buffer, sizeof buffer) > 0) {
  } // what a late answer left
  if (::syscall(SYS_tgkill, ::getpid(), tid, trace_signal()) != 0)
    return {};
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (out.find(k_trace_end) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      break;
    pollfd p{trace_read_fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    auto n = ::read(trace_read_fd, buffer, sizeof buffer);
    if (n > 0)
      out.append(buffer, static_cast<std::size_t>(n));
  }
  if (auto end = out.find(k_trace_end); end != std::string::npos)
    out.resize(end);
  return out;
}

} // namespace

std::string describe_threads(const std::vector<int>& thread_ids) {
  install_trace_handler();
  std::ostringstream out;
  for (int tid : thread_ids) {
    const auto dir = "/proc/self/task/" + std::to_string(tid) + "/";
    auto stat = read_proc(dir + "stat");
    std::string state = "?";
    if (auto close = stat.rfind(')'); close != std::string::npos && close + 2 < stat.size())
      state = stat.substr(close + 2, 1);
    out << "  thread " << tid << " (" << read_proc(dir + "comm") << ") state " << state
        << ", waiting in " << read_proc(dir + "wchan") << "\n";
    std::istringstream frames(backtrace_of(tid));
    for (std::string line; std::getline(frames, line);)
      out << "    " << line << "\n";
  }
  return out.str();
}

// ---- thread_watchdog ----

struct thread_watchdog::impl {
  struct entry {
    watched_pool pool;
    std::mutex mutex; // guards monitor
    heartbeat_monitor monitor;
    bool reported = false; // a stall was logged and has not ended
    entry(watched_pool p, std::chrono::milliseconds stall) : pool(std::move(p)), monitor(stall) {}
  };

  explicit impl(settings s) : config(std::move(s)) {}

  settings config;
  mutable std::mutex mutex; // guards pools and next_id; held while posting
  std::map<std::uint64_t, std::shared_ptr<entry>> pools;
  std::uint64_t next_id = 1;
  bool aborted = false; // on_abort was called (only once)
  std::mutex reporter_mutex;
  std::thread reporter;       // writes a stall's report; joined before the next and at the end
  timer_thread::handle ticks; // last: cancelled before the rest goes

  void report_apart(std::function<void()> report) {
    std::lock_guard lock(reporter_mutex);
    if (reporter.joinable())
      reporter.join(); // a report ends within 0.5 s per thread; the last had a tick's time since
    reporter = std::thread(std::move(report));
  }

  ~impl() {
    std::lock_guard lock(reporter_mutex);
    if (reporter.joinable())
      reporter.join();
  }

  void tick() {
    const auto now = watchdog_clock::now();
    std::vector<std::pair<std::shared_ptr<entry>, std::vector<int>>> newly_stalled;
    std::vector<std::string> recovered;
    std::optional<std::string> abort_pool;
    {
      std::lock_guard lock(mutex);
      for (auto& [id, e] : pools) {
        std::optional<std::uint64_t> sequence;
        bool stalled_now = false;
        std::chrono::milliseconds silent{0};
        {
          std::lock_guard entry_lock(e->mutex);
          if (e->pool.finished)
            e->monitor.progress(e->pool.finished(), now);
          sequence = e->monitor.post(now);
          silent = e->monitor.silent_for(now);
          stalled_now = e->monitor.stalled(now);
        }
        if (sequence)
          e->pool.post([weak = std::weak_ptr<entry>(e), seq = *sequence] {
            if (auto alive = weak.lock()) {
              std::lock_guard entry_lock(alive->mutex);
              alive->monitor.ran(seq);
            }
          });
        if (stalled_now && !e->reported) {
          e->reported = true;
          newly_stalled.emplace_back(e, e->pool.thread_ids ? e->pool.thread_ids()
                                                           : std::vector<int>{});
        } else if (!stalled_now && e->reported) {
          e->reported = false;
          recovered.push_back(e->pool.name);
        }
        if (stalled_now && config.abort.count() > 0 && silent >= config.abort && !abort_pool &&
            !aborted) {
          abort_pool = e->pool.name;
          aborted = true;
        }
      }
    }
    if (!newly_stalled.empty()) {
      auto report = [newly_stalled = std::move(newly_stalled), stall = config.stall,
                     abort = config.abort] {
        for (const auto& [e, tids] : newly_stalled)
          spdlog::error(
              "thread pool '{}' has run no heartbeat for {} s: stalled (/ready answers 503; "
              "{}). Its threads:\n{}",
              e->pool.name, stall.count() / 1000,
              abort.count() > 0 ? fmt::format("the process exits after {} s", abort.count() / 1000)
                                : std::string("WORK_STALL_ABORT_SECONDS=0: the process goes on"),
              describe_threads(tids));
      };
      // A backtrace waits up to 0.5 s for its thread: off the timer thread, whose other timers
      // (sockets' deadlines) must not wait for it. Exiting now, it is written first.
      if (abort_pool)
        report();
      else
        report_apart(std::move(report));
    }
    for (const auto& name : recovered)
      spdlog::warn("thread pool '{}' runs heartbeats again", name);
    if (abort_pool) {
      spdlog::critical("thread pool '{}' stalled for {} s: exiting (code {}) so that the process "
                       "is restarted; the leases of what it held return the work",
                       *abort_pool, config.abort.count() / 1000, k_exit_stalled);
      spdlog::default_logger()->flush();
      if (config.on_abort)
        config.on_abort(*abort_pool);
      else
        std::_Exit(k_exit_stalled);
    }
  }
};

thread_watchdog::thread_watchdog(settings s) : impl_(std::make_unique<impl>(std::move(s))) {
  install_trace_handler();
  impl_->ticks = timer_thread::every(impl_->config.interval, [this] { impl_->tick(); });
}

// The tick ends before the pools go; a report still being written is joined when impl_ goes.
thread_watchdog::~thread_watchdog() {
  impl_->ticks.cancel();
}

thread_watchdog::registration::registration(registration&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), id_(other.id_) {}

thread_watchdog::registration&
thread_watchdog::registration::operator=(registration&& other) noexcept {
  if (this != &other) {
    this->~registration();
    owner_ = std::exchange(other.owner_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

thread_watchdog::registration::~registration() {
  if (!owner_)
    return;
  std::lock_guard lock(owner_->impl_->mutex);
  owner_->impl_->pools.erase(id_);
  owner_ = nullptr;
}

thread_watchdog::registration thread_watchdog::watch(watched_pool pool) {
  std::lock_guard lock(impl_->mutex);
  const auto id = impl_->next_id++;
  impl_->pools.emplace(id, std::make_shared<impl::entry>(std::move(pool), impl_->config.stall));
  return registration(this, id);
}

std::vector<pool_status> thread_watchdog::status() const {
  const auto now = watchdog_clock::now();
  std::vector<pool_status> out;
  std::lock_guard lock(impl_->mutex);
  for (const auto& [id, e] : impl_->pools) {
    std::lock_guard entry_lock(e->mutex);
    out.push_back({e->pool.name, e->monitor.silent_for(now), e->monitor.stalled(now)});
  }
  return out;
}

std::vector<std::string> thread_watchdog::stalled() const {
  std::vector<std::string> out;
  for (auto& s : status())
    if (s.stalled && std::find(out.begin(), out.end(), s.name) == out.end())
      out.push_back(s.name);
  return out;
}

std::string thread_watchdog::describe_stalled() const {
  std::vector<std::pair<std::string, std::vector<int>>> stuck;
  {
    const auto now = watchdog_clock::now();
    std::lock_guard lock(impl_->mutex);
    for (const auto& [id, e] : impl_->pools) {
      bool stalled_now = false;
      {
        std::lock_guard entry_lock(e->mutex);
        stalled_now = e->monitor.stalled(now);
      }
      if (stalled_now)
        stuck.emplace_back(e->pool.name,
                           e->pool.thread_ids ? e->pool.thread_ids() : std::vector<int>{});
    }
  }
  std::string out;
  for (const auto& [name, tids] : stuck)
    out += "pool '" + name + "':\n" + describe_threads(tids);
  return out;
}

bool thread_watchdog::block_for_test(std::string_view pool) {
  // Never set: every thread that takes one of these tasks waits on it for good.
  static auto* never = new std::promise<void>();
  static const std::shared_future<void> forever = never->get_future().share();
  std::lock_guard lock(impl_->mutex);
  for (const auto& [id, e] : impl_->pools)
    if (e->pool.name == pool) {
      const auto threads = e->pool.thread_ids
                               ? std::max<std::size_t>(1, e->pool.thread_ids().size())
                               : std::size_t{1};
      for (std::size_t i = 0; i < threads; ++i)
        e->pool.post([] { forever.wait(); });
      return true;
    }
  return false;
}

} // namespace sky::process
