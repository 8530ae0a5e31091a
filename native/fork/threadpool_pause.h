// Quiets libuv's threadpool for fork(): a pool thread inside crypto, zlib
// or getaddrinfo at that moment may hold a lock (OpenSSL's, the resolver's,
// the loop's queue mutex) that stays held for ever in the child, where the
// thread does not exist.
#pragma once

#include <uv.h>

#include <memory>

namespace mp {

class ThreadpoolPause {
 public:
  // Queues one job per pool thread and waits (at most timeoutMs) until every
  // one of them runs: then no thread is inside anyone else's work. The work
  // queued before them finishes first.
  ThreadpoolPause(uv_loop_t* loop, int timeoutMs);
  // In the parent: lets the parked jobs return.
  ~ThreadpoolPause();
  ThreadpoolPause(const ThreadpoolPause&) = delete;
  ThreadpoolPause& operator=(const ThreadpoolPause&) = delete;

  // Whether every pool thread was parked in time.
  bool Complete() const;
  // In the fork child: the parked threads do not exist there, and their
  // shared state may be mid-update; it is let go of, untouched.
  void AbandonInChild();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// The number of threads libuv's pool has (or will have): UV_THREADPOOL_SIZE
// as libuv reads it, 4 by default, 1 to 1024.
int ThreadpoolSize();

}  // namespace mp
