// A map with a size cap that forgets its least recently used entries: per-host and per-origin
// state must not grow with the number of sites a long-running process has ever seen.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <utility>

namespace sky::scrape {

template <class Key, class Value> class lru_map {
public:
  explicit lru_map(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  std::size_t size() const { return index_.size(); }
  std::size_t capacity() const { return capacity_; }

  // The entry for `key`, now the most recently used; nullptr when absent.
  Value* find(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end())
      return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  // Inserts or replaces; the entry becomes the most recently used. Past the capacity the least
  // recently used entries are dropped.
  Value& put(const Key& key, Value value) {
    if (auto* existing = find(key)) {
      *existing = std::move(value);
      return *existing;
    }
    order_.emplace_front(key, std::move(value));
    index_.emplace(key, order_.begin());
    while (index_.size() > capacity_)
      pop_oldest();
    return order_.front().second;
  }

  void erase(const Key& key) {
    if (auto it = index_.find(key); it != index_.end()) {
      order_.erase(it->second);
      index_.erase(it);
    }
  }

  // Drops least recently used entries for as long as `stale(value)` holds: expired entries
  // gather at that end, so this costs nothing when there are none.
  template <class Predicate> void drop_oldest_while(Predicate stale) {
    while (!order_.empty() && stale(order_.back().second))
      pop_oldest();
  }

private:
  using entry_list = std::list<std::pair<Key, Value>>;

  void pop_oldest() {
    index_.erase(order_.back().first);
    order_.pop_back();
  }

  std::size_t capacity_;
  entry_list order_; // most recently used first
  std::map<Key, typename entry_list::iterator, std::less<>> index_;
};

} // namespace sky::scrape
