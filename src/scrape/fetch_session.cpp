#include "scrape/fetch_session.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

namespace sky::scrape {

namespace asio = boost::asio;

struct fetch_session::sleeper {
  explicit sleeper(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
};

fetch_session::fetch_session(fetcher& f, session_budget budget) : fetcher_(f), budget_(budget) {}

std::optional<std::string> fetch_session::refusal() const {
  if (cancelled())
    return std::string(k_fetch_cancelled);
  if (std::chrono::steady_clock::now() >= budget_.deadline)
    return std::string(k_budget_spent) + ": deadline";
  std::lock_guard lock(mutex_);
  if (counters_.bytes >= budget_.max_bytes)
    return std::string(k_budget_spent) + ": " + std::to_string(budget_.max_bytes) + " bytes";
  return std::nullopt;
}

void fetch_session::start(fetch_request request, std::function<void(fetch_result)> done) {
  if (auto why = refusal()) {
    fetch_result r;
    r.error = *why;
    {
      std::lock_guard lock(mutex_);
      ++counters_.fetches;
      ++counters_.failures;
    }
    done(std::move(r));
    return;
  }
  if (!request.cookies)
    request.cookies = cookies_;
  // Registered before it starts, because the fetcher may complete it before fetch() returns;
  // its id is known only then.
  auto entry = std::make_shared<in_flight_fetch>();
  {
    std::lock_guard lock(mutex_);
    in_flight_.insert(entry);
  }
  auto self = shared_from_this();
  auto url = observer_ ? request.url : std::string();
  auto id = fetcher_.fetch(std::move(request),
                           [self, entry, url, done = std::move(done)](fetch_result r) {
                             {
                               std::lock_guard lock(self->mutex_);
                               self->in_flight_.erase(entry);
                               entry->ended = true;
                               ++self->counters_.fetches;
                               if (!r.ok())
                                 ++self->counters_.failures;
                               self->counters_.retries += std::max(0, r.attempts - 1);
                               self->counters_.bytes += r.body.size();
                               self->counters_.fetch_seconds += r.seconds;
                             }
                             if (self->observer_)
                               self->observer_(url, r);
                             done(std::move(r));
                           });
  bool cancel_now = false;
  {
    std::lock_guard lock(mutex_);
    entry->id = id;
    // A cancel that came before the id was known could not reach this fetch.
    cancel_now = !entry->ended && cancelled();
  }
  if (cancel_now)
    fetcher_.cancel(id);
}

// The lambdas are named locals: GCC 12 destroys one created inside a co_await expression twice.
asio::awaitable<fetch_result> fetch_session::fetch(fetch_request request) {
  auto self = shared_from_this();
  auto start = [self,
                request = std::move(request)](std::function<void(fetch_result)> resume) mutable {
    self->start(std::move(request), std::move(resume));
  };
  co_return co_await await_callback<fetch_result>(start);
}

asio::awaitable<fetch_result> fetch_session::fetch(std::string url,
                                                   std::optional<std::size_t> max_bytes) {
  fetch_request request;
  request.url = std::move(url);
  request.max_bytes = max_bytes;
  co_return co_await fetch(std::move(request));
}

asio::awaitable<std::vector<fetch_result>> fetch_session::fetch_all(std::vector<std::string> urls) {
  if (urls.empty())
    co_return std::vector<fetch_result>{};
  struct gathering {
    std::mutex mutex;
    std::vector<fetch_result> results;
    std::size_t left = 0;
  };
  auto self = shared_from_this();
  auto start = [self, urls = std::move(urls)](
                   std::function<void(std::vector<fetch_result>)> resume) mutable {
    auto g = std::make_shared<gathering>();
    g->results.resize(urls.size());
    g->left = urls.size();
    for (std::size_t i = 0; i < urls.size(); ++i) {
      fetch_request request;
      request.url = std::move(urls[i]);
      self->start(std::move(request), [g, i, resume](fetch_result r) {
        bool last = false;
        {
          std::lock_guard lock(g->mutex);
          g->results[i] = std::move(r);
          last = --g->left == 0;
        }
        if (last)
          resume(std::move(g->results));
      });
    }
  };
  co_return co_await await_callback<std::vector<fetch_result>>(start);
}

asio::awaitable<bool> fetch_session::sleep(std::chrono::milliseconds duration) {
  if (cancelled())
    co_return false;
  auto s = std::make_shared<sleeper>(co_await asio::this_coro::executor);
  s->timer.expires_after(duration);
  {
    std::lock_guard lock(mutex_);
    sleepers_.insert(s);
  }
  // A cancel between the check above and the registration would be missed without this.
  if (cancelled())
    s->timer.cancel();
  boost::system::error_code ec;
  co_await s->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  {
    std::lock_guard lock(mutex_);
    sleepers_.erase(s);
  }
  co_return !ec && !cancelled();
}

void fetch_session::cancel() {
  cancelled_.store(true, std::memory_order_release);
  std::vector<fetch_id> fetches;
  std::set<std::shared_ptr<sleeper>> sleeping;
  {
    std::lock_guard lock(mutex_);
    for (const auto& f : in_flight_)
      if (f->id != 0)
        fetches.push_back(f->id);
    sleeping = sleepers_;
  }
  for (auto id : fetches)
    fetcher_.cancel(id);
  // A timer is cancelled on its own executor (the job's strand), never beside its wait.
  for (const auto& s : sleeping)
    asio::post(s->timer.get_executor(), [s] { s->timer.cancel(); });
}

session_counters fetch_session::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

} // namespace sky::scrape
