// The one way a blocking caller (the command line, tests) waits for a coroutine of scrape/: it
// runs on the fetcher's context and the calling thread, never one of the fetcher's own, blocks
// until it ends. Cancelling is the session's: fetch_session::cancel() from any thread.
#pragma once

#include "scrape/fetcher.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>

namespace sky::scrape {

template <class T> T run_sync(fetcher& f, boost::asio::awaitable<T> work) {
  return boost::asio::co_spawn(boost::asio::make_strand(f.context()), std::move(work),
                               boost::asio::use_future)
      .get();
}

} // namespace sky::scrape
