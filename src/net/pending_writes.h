// PendingWrites<Payload>: a session's writes handed to the store (Store::write_async) and not yet
// answered, in request order. The client session (src/server/client_session.h) and the RESP session
// (src/resp/session.h) both keep one: a step submits a write and returns at once (no thread waits for
// the commit), the store's writer thread records the outcome and wakes the session, and a later step
// answers the finished writes from the front, so replies keep request order.
//
// Threads: every method but the completion returned by push() is called under the owner's lock; the
// completion runs on the store's writer thread (or at once, on a refusal before queueing) and takes no
// lock of the owner: it only stores the outcome, publishes it, and calls `wake`.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <utility>

#include "cairn/status.h"

namespace cairn::net {

template <typename Payload>
class PendingWrites {
 public:
  using Completion = std::function<void(Result<bool>)>;

  // Adds a write at the back, holding `payload` (what the answer needs), and returns the completion to
  // hand to write_async. The completion keeps its entry alive, so clear() may drop it meanwhile.
  Completion push(Payload payload, std::function<void()> wake) {
    auto entry = std::make_shared<Entry>();
    entry->payload = std::move(payload);
    entries_.push_back(entry);
    return completion(std::move(entry), std::move(wake));
  }

  // The front write again (its outcome asked for another attempt): a fresh entry with the same payload
  // in its place, and its completion. Only when front_done().
  Completion resubmit_front(std::function<void()> wake) {
    auto entry = std::make_shared<Entry>();
    entry->payload = std::move(entries_.front()->payload);
    entries_.front() = entry;
    return completion(std::move(entry), std::move(wake));
  }

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  // True when the oldest write has its outcome.
  bool front_done() const { return !entries_.empty() && entries_.front()->done.load(std::memory_order_acquire); }
  Payload& front_payload() { return entries_.front()->payload; }
  const Payload& front_payload() const { return entries_.front()->payload; }
  Result<bool>& front_outcome() { return entries_.front()->outcome; }
  void pop_front() { entries_.pop_front(); }
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    Payload payload;
    Result<bool> outcome = false;
    std::atomic<bool> done{false};
  };

  static Completion completion(std::shared_ptr<Entry> entry, std::function<void()> wake) {
    return [entry = std::move(entry), wake = std::move(wake)](Result<bool> outcome) {
      entry->outcome = std::move(outcome);
      entry->done.store(true, std::memory_order_release);
      if (wake) wake();
    };
  }

  std::deque<std::shared_ptr<Entry>> entries_;
};

}  // namespace cairn::net
