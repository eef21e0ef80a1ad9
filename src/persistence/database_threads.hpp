// The engine's threads that block on PostgreSQL: a fixed few shared by every queue and the
// node's maintenance, instead of a thread per actor.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace sky::persistence {

class database_threads {
public:
  class readable_watch;

  // A serial queue of tasks on the shared threads: a lane's tasks run one at a time, in the order
  // they were posted, each on whichever thread is free (a busy lane makes way for others every
  // few tasks). A lane may outlive its pool: then its tasks are dropped. A connection owned by one
  // lane is therefore never used by two threads at once, and no transaction leaves its lane.
  class lane {
  public:
    lane() = default;
    // Runs `task` after the lane's earlier tasks. Posting to a stopped pool drops the task.
    void post(std::function<void()> task) const;
    // As post(), for a caller about to return: from a task of the pool's own threads, the lane's
    // turn then runs on that thread once the caller's turn ends, instead of waking another thread
    // (a hand-over less on a pickup's path). From any other thread, the same as post().
    void post_next(std::function<void()> task) const;
    // A watch on `fd` (a socket the caller keeps and closes) whose answers run on this lane.
    std::shared_ptr<readable_watch> watch(int fd) const;
    explicit operator bool() const { return static_cast<bool>(strand_); }

    struct strand; // public for the .cpp's helpers

  private:
    friend class database_threads;
    void enqueue(std::function<void()> task, bool continuation) const;
    std::shared_ptr<strand> strand_;
  };

  // Waits without a thread for a socket to have something to read (a LISTEN connection's
  // notifications). Only its lane's tasks may call wait(); cancel() may come from anywhere.
  class readable_watch {
  public:
    virtual ~readable_watch() = default;
    // Calls `ready(true)` on the lane once the socket can be read, `ready(false)` if the watch
    // was cancelled or failed. One wait at a time.
    virtual void wait(std::function<void(bool)> ready) = 0;
    // Ends the wait (its answer is false) and lets the socket go; the watch waits no more.
    virtual void cancel() = 0;
  };

  explicit database_threads(std::size_t threads);
  ~database_threads(); // stop()
  database_threads(const database_threads&) = delete;
  database_threads& operator=(const database_threads&) = delete;

  lane make_lane();
  // Runs nothing more and waits for the tasks already running (each bounded by its statement or
  // connect timeout); tasks posted later are dropped. Idempotent.
  void stop();
  std::size_t size() const { return size_; }

  struct impl; // public for the watches of the .cpp

private:
  std::shared_ptr<impl> impl_;
  std::size_t size_;
};

} // namespace sky::persistence
