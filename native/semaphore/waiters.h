// Async acquisition: waiter threads of our own (never libuv's pool, whose
// four threads fs and dns need) block on semaphores for the JavaScript
// threads and report through a thread-safe function (core/js_dispatcher.h).
#pragma once

#include <napi.h>

#include <memory>

#include "core/js_dispatcher.h"
#include "semaphore/sem.h"

namespace mp {
namespace waiters {

struct Request;
void DeliverToJs(Napi::Env env, Napi::Function callback, Request* request);
// One per JavaScript environment (the main thread, each worker thread).
using Dispatcher = JsDispatcher<Request, DeliverToJs>;

struct Request {
  Dispatcher* dispatcher;
  double id;
  std::shared_ptr<Sem> sem;
  std::shared_ptr<Sem> thenPost;  // posted by the waiter right after acquiring (Condition.wait)
  int error = 0;                  // 0: acquired
};

// Hands a request to a waiter thread; it is delivered (and freed) once
// the semaphore is acquired or the wait fails.
void Submit(Request* request);

// Removes a request that no waiter has acquired for yet; false if it is
// already acquired (its delivery is on the way).
bool Cancel(Dispatcher* dispatcher, double id);

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
