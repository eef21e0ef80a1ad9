// One job's use of the fetcher, awaited from coroutines: its cookies, its budget (deadline and
// bytes), its counters and its cancellation. Robots.txt rules, DNS and idle connections stay
// shared between jobs; cookies never are.
#pragma once

#include "scrape/fetcher.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace sky::scrape {

// Awaits a callback-style operation: `start` receives the function to call exactly once, on any
// thread, with the result; the awaiting coroutine resumes on its own executor. Pass `start` as
// a named local: GCC 12 destroys a lambda created inside a co_await expression twice.
template <class T, class Start> boost::asio::awaitable<T> await_callback(const Start& start) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(T)>(
      [start = Start(start)](auto handler) mutable {
        auto executor = boost::asio::get_associated_executor(handler);
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start([executor, shared](T value) mutable {
          boost::asio::post(executor, [shared, value = std::move(value)]() mutable {
            (*shared)(std::move(value));
          });
        });
      },
      boost::asio::use_awaitable);
}

struct session_budget {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::size_t max_bytes = std::numeric_limits<std::size_t>::max(); // downloaded, all fetches
};

struct session_counters {
  int fetches = 0;  // requests answered (any status) or failed
  int failures = 0; // transport failures, refusals and cancellations among them
  int retries = 0;  // transient failures the fetcher retried
  std::uint64_t bytes = 0;
  double fetch_seconds = 0; // summed over the fetches, so concurrent ones count each
};

// The error of a fetch the session refused because its deadline or byte budget was spent.
inline constexpr std::string_view k_budget_spent = "job budget spent";

class fetch_session : public std::enable_shared_from_this<fetch_session> {
public:
  fetch_session(fetcher& f, session_budget budget = {});
  fetch_session(const fetch_session&) = delete;
  fetch_session& operator=(const fetch_session&) = delete;

  // With this session's cookies; refused at once (an error result) once the session is
  // cancelled or its budget is spent.
  boost::asio::awaitable<fetch_result> fetch(fetch_request request);
  boost::asio::awaitable<fetch_result> fetch(std::string url,
                                             std::optional<std::size_t> max_bytes = std::nullopt);
  // Every URL at once (the fetcher applies its per-host limits); results in the same order.
  boost::asio::awaitable<std::vector<fetch_result>> fetch_all(std::vector<std::string> urls);
  // Waits `duration`, or less when the session is cancelled meanwhile; false then.
  boost::asio::awaitable<bool> sleep(std::chrono::milliseconds duration);

  // Called after each fetch of this session ends, on the thread that ended it (for logging).
  using fetch_observer = std::function<void(const std::string& url, const fetch_result&)>;
  void observe(fetch_observer observer) { observer_ = std::move(observer); }

  // Any thread: aborts the fetches and sleeps in flight; later ones end at once.
  void cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  session_counters counters() const;
  const std::shared_ptr<cookie_jar>& cookies() const { return cookies_; }
  fetcher& shared_fetcher() { return fetcher_; }

private:
  struct sleeper;
  // Starts one fetch with this session's bookkeeping; `done` is called exactly once.
  void start(fetch_request request, std::function<void(fetch_result)> done);
  std::optional<std::string> refusal() const;

  fetcher& fetcher_;
  const session_budget budget_;
  std::shared_ptr<cookie_jar> cookies_ = std::make_shared<cookie_jar>();
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mutex_;
  struct in_flight_fetch {
    fetch_id id = 0; // 0 until the fetcher returned it
    bool ended = false;
  };
  std::set<std::shared_ptr<in_flight_fetch>> in_flight_;
  std::set<std::shared_ptr<sleeper>> sleepers_;
  session_counters counters_;
  fetch_observer observer_; // set before the first fetch, read-only after
};

} // namespace sky::scrape
