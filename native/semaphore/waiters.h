// Async acquisition: waiter threads of our own (never libuv's pool, whose
// four threads fs and dns need) block on semaphores for the JavaScript
// threads and report through a thread-safe function (core/js_dispatcher.h).
#pragma once

#include <napi.h>

#include <memory>

#include "semaphore/sem.h"

namespace mp {
namespace waiters {

// Queues an acquisition of `sem` for this JavaScript environment: a waiter
// thread acquires it (then posts `thenPost`, when given: Condition.wait)
// and reports (id, 0), or (id, errno), through the environment's
// semLockSetCallback function. The event loop stays alive until it does.
void Submit(Napi::Env env, double id, std::shared_ptr<Sem> sem, std::shared_ptr<Sem> thenPost);

// Removes this environment's request `id` if no waiter has acquired for it
// yet; false if it is already acquired (its delivery is on the way).
bool Cancel(Napi::Env env, double id);

// semLockSetCallback(fn(id, errno)): where this environment's async
// acquisitions report.
Napi::Value SetCallback(const Napi::CallbackInfo& info);

// pthread_atfork hooks: no waiter holds the pool's mutex across fork(), and
// a fork child starts with an empty pool.
void PrepareFork();
void ParentAfterFork();
void ChildAfterFork();

}  // namespace waiters
}  // namespace mp
