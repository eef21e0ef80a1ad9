#include "persistence/database_threads.hpp"

#include <boost/asio/defer.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace sky::persistence {

namespace {
class descriptor_watch;
}

// Owned by database_threads alone; lanes and watches hold it weakly, so that what is queued in
// the pool (which holds lanes) never keeps the pool alive. Asio requires its I/O objects to go
// before their pool: stop() closes every live watch's descriptor.
struct database_threads::impl {
  explicit impl(std::size_t threads) : pool(threads) {}
  boost::asio::thread_pool pool;
  std::mutex mutex; // stopped, watches, and every watch's descriptor
  bool stopped = false;
  std::vector<std::weak_ptr<descriptor_watch>> watches;
};

// A lane's own queue (not an Asio strand, which could not outlive the pool): at most one drain of
// it is queued in the pool at a time, so its tasks run one after another, in order.
struct database_threads::lane::strand {
  explicit strand(std::weak_ptr<impl> owner) : owner(std::move(owner)) {}
  std::weak_ptr<impl> owner;
  std::mutex mutex;
  std::deque<std::function<void()>> tasks;
  bool scheduled = false;
};

namespace {

void drain(const std::shared_ptr<database_threads::lane::strand>& s);

// A lane's turn in the pool. Destroyed without running (the pool stopped first), it drops the
// lane's tasks: they hold what holds the lane, and would never run nor be freed.
class drain_job {
public:
  explicit drain_job(std::shared_ptr<database_threads::lane::strand> s) : s_(std::move(s)) {}
  drain_job(drain_job&& other) noexcept = default; // leaves `other` without a lane
  drain_job& operator=(drain_job&&) = delete;
  drain_job(const drain_job&) = delete;
  ~drain_job() {
    if (!s_)
      return;
    std::deque<std::function<void()>> dropped;
    std::lock_guard lock(s_->mutex);
    dropped.swap(s_->tasks);
    s_->scheduled = false;
  }
  void operator()() {
    auto s = std::move(s_);
    drain(s);
  }

private:
  std::shared_ptr<database_threads::lane::strand> s_;
};

// Runs a few of the lane's tasks, then makes way for other lanes' if more wait.
void drain(const std::shared_ptr<database_threads::lane::strand>& s) {
  constexpr int k_tasks_per_turn = 16;
  for (int i = 0; i < k_tasks_per_turn; ++i) {
    std::function<void()> task;
    {
      std::lock_guard lock(s->mutex);
      if (s->tasks.empty()) {
        s->scheduled = false;
        return;
      }
      task = std::move(s->tasks.front());
      s->tasks.pop_front();
    }
    // A task reports its own failures; anything that still escapes must not end the thread.
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("database task failed: {}", e.what());
    }
  }
  if (auto owner = s->owner.lock())
    boost::asio::post(owner->pool, drain_job(s));
}

} // namespace

void database_threads::lane::post(std::function<void()> task) const {
  enqueue(std::move(task), false);
}

void database_threads::lane::post_next(std::function<void()> task) const {
  enqueue(std::move(task), true);
}

void database_threads::lane::enqueue(std::function<void()> task, bool continuation) const {
  auto owner = strand_->owner.lock();
  if (!owner)
    return; // the pool is gone: the task could never run
  bool schedule = false;
  {
    std::lock_guard lock(strand_->mutex);
    strand_->tasks.push_back(std::move(task));
    schedule = !strand_->scheduled;
    strand_->scheduled = true;
  }
  if (!schedule)
    return;
  // Asio runs a deferred job on the deferring thread after its current one when that thread is
  // the pool's, and posts it otherwise.
  if (continuation)
    boost::asio::defer(owner->pool, drain_job(strand_));
  else
    boost::asio::post(owner->pool, drain_job(strand_));
}

namespace {

class descriptor_watch final : public database_threads::readable_watch,
                               public std::enable_shared_from_this<descriptor_watch> {
public:
  descriptor_watch(database_threads::lane lane, std::weak_ptr<database_threads::impl> owner)
      : lane_(std::move(lane)), owner_(std::move(owner)) {}

  ~descriptor_watch() override {
    if (auto owner = owner_.lock()) {
      std::lock_guard lock(owner->mutex);
      close();
    } // else the pool's stop() closed it already
  }

  // With the pool's mutex held.
  void open(boost::asio::thread_pool& pool, int fd) { descriptor_.emplace(pool, fd); }

  void wait(std::function<void(bool)> ready) override {
    auto owner = owner_.lock();
    if (!owner)
      return;
    std::lock_guard lock(owner->mutex);
    if (!descriptor_) {
      lane_.post([ready = std::move(ready)] { ready(false); });
      return;
    }
    descriptor_->async_wait(
        boost::asio::posix::stream_descriptor::wait_read,
        [self = shared_from_this(),
         ready = std::move(ready)](const boost::system::error_code& ec) mutable {
          self->lane_.post_next([ready = std::move(ready), ok = !ec] { ready(ok); });
        });
  }

  void cancel() override {
    if (auto owner = owner_.lock()) {
      std::lock_guard lock(owner->mutex);
      close();
    }
  }

  // With the pool's mutex held: the socket stays its owner's.
  void close() {
    if (!descriptor_)
      return;
    boost::system::error_code ignored;
    descriptor_->cancel(ignored);
    (void)descriptor_->release();
    descriptor_.reset();
  }

private:
  database_threads::lane lane_;
  std::weak_ptr<database_threads::impl> owner_;
  std::optional<boost::asio::posix::stream_descriptor> descriptor_;
};

} // namespace

std::shared_ptr<database_threads::readable_watch> database_threads::lane::watch(int fd) const {
  auto w = std::make_shared<descriptor_watch>(*this, strand_->owner);
  auto owner = strand_->owner.lock();
  if (!owner)
    return w; // the pool is gone: its waits answer nothing
  std::lock_guard lock(owner->mutex);
  if (owner->stopped)
    return w;
  w->open(owner->pool, fd);
  std::erase_if(owner->watches, [](const auto& x) { return x.expired(); });
  owner->watches.push_back(w);
  return w;
}

database_threads::database_threads(std::size_t threads)
    : impl_(std::make_shared<impl>(std::max<std::size_t>(1, threads))),
      size_(std::max<std::size_t>(1, threads)) {}

database_threads::~database_threads() {
  stop();
}

database_threads::lane database_threads::make_lane() {
  lane l;
  l.strand_ = std::make_shared<lane::strand>(impl_);
  return l;
}

void database_threads::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped)
      return;
    impl_->stopped = true;
  }
  impl_->pool.stop();
  impl_->pool.join();
  // Held here until the mutex is released: a watch's destructor takes it.
  std::vector<std::shared_ptr<descriptor_watch>> live;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& weak : impl_->watches)
      if (auto w = weak.lock()) {
        w->close();
        live.push_back(std::move(w));
      }
    impl_->watches.clear();
  }
}

} // namespace sky::persistence
