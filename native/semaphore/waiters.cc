#include "semaphore/waiters.h"

#include <semaphore.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/args.h"
#include "core/js_dispatcher.h"

namespace mp {
namespace waiters {

namespace {

// Kept to this file (internal linkage): the dispatcher's template is
// instantiated here only. Elsewhere, a function pointer of external
// linkage as its argument is no constant expression under UBSan's
// -fno-delete-null-pointer-checks, and node-addon-api needs one.
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

// The pid, refreshed in fork children (getpid() is a system call).
pid_t g_pid = getpid();

class WaiterPool {
 public:
  static WaiterPool& Get() {
    static WaiterPool* pool = new WaiterPool();  // never destroyed: threads may outlive exit()
    pool->ResetIfForked();
    return *pool;
  }

  void Submit(Request* request) {
    std::lock_guard<std::mutex> lock(mutex_);
    sem_t* key = request->sem->sem;
    auto it = waited_.find(key);
    Waited* w;
    if (it == waited_.end()) {
      w = new Waited{request->sem, {}, false, false};
      waited_.emplace(key, w);
    } else {
      w = it->second;
    }
    w->queue.push_back(request);
    if (!w->attached && !w->ready) {
      w->ready = true;
      ready_.push_back(w);
      if (idle_ == 0 && threads_ < kMaxThreads) {
        ++threads_;
        std::thread([this] { Work(); }).detach();
      } else {
        wake_.notify_one();
      }
    }
  }

  // Removes a request that no waiter has acquired for yet; false if it is
  // already acquired (its delivery is on the way).
  bool Cancel(Dispatcher* dispatcher, double id) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& entry : waited_) {
      auto& queue = entry.second->queue;
      for (auto it = queue.begin(); it != queue.end(); ++it) {
        if ((*it)->dispatcher == dispatcher && (*it)->id == id) {
          delete *it;
          queue.erase(it);
          return true;
        }
      }
    }
    return false;
  }

  // The environment is going away: its requests are dropped.
  void CancelAll(Dispatcher* dispatcher) {
    std::lock_guard<std::mutex> lock(mutex_);
    dispatcher->Close();
    for (auto& entry : waited_) {
      auto& queue = entry.second->queue;
      for (auto it = queue.begin(); it != queue.end();) {
        if ((*it)->dispatcher == dispatcher) {
          delete *it;
          it = queue.erase(it);
        } else {
          ++it;
        }
      }
    }
  }

  // pthread_atfork: no waiter holds the mutex across fork().
  void LockForFork() { mutex_.lock(); }
  void UnlockAfterFork() { mutex_.unlock(); }

 private:
  struct Waited {
    std::shared_ptr<Sem> sem;
    std::deque<Request*> queue;
    bool attached;  // a waiter thread serves it
    bool ready;     // in ready_, waiting for a thread
  };

  static constexpr int kMaxThreads = 16;
  // How long a waiter sleeps before it looks again at its queue (cancelled
  // requests, other semaphores waiting for a thread).
  static constexpr int64_t kSliceNs = 200 * 1000000LL;
  static constexpr int64_t kShareSliceNs = 5 * 1000000LL;
  static constexpr auto kIdleExit = std::chrono::seconds(2);

  // A fork child has none of the waiter threads, and the requests belong to
  // the parent's JavaScript: start empty. What the parent's state held is
  // left allocated (its threads' memory is not ours to free).
  void ResetIfForked() {
    if (pid_ == g_pid) return;
    pid_ = g_pid;
    new (&wake_) std::condition_variable();  // the parent's waiters are not here
    new (&waited_) std::unordered_map<sem_t*, Waited*>();
    new (&ready_) std::deque<Waited*>();
    threads_ = 0;
    idle_ = 0;
  }

  void Work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      while (ready_.empty()) {
        ++idle_;
        bool got = wake_.wait_for(lock, kIdleExit, [this] { return !ready_.empty(); });
        --idle_;
        if (!got) {
          --threads_;
          return;
        }
      }
      Waited* w = ready_.front();
      ready_.pop_front();
      w->ready = false;
      w->attached = true;
      Serve(w, lock);
    }
  }

  // Waits on one semaphore for its queue of requests, in order, until the
  // queue is empty or another semaphore needs this thread.
  void Serve(Waited* w, std::unique_lock<std::mutex>& lock) {
    for (;;) {
      if (w->queue.empty()) {
        waited_.erase(w->sem->sem);
        std::shared_ptr<Sem> last = std::move(w->sem);
        delete w;
        lock.unlock();
        last.reset();  // sem_close outside the lock
        lock.lock();
        return;
      }
      bool sharing = !ready_.empty() && idle_ == 0 && threads_ >= kMaxThreads;
      std::shared_ptr<Sem> sem = w->sem;
      lock.unlock();
      int err = WaitUntil(sem->sem, MonotonicNs() + (sharing ? kShareSliceNs : kSliceNs));
      lock.lock();
      if (err == 0) {
        if (w->queue.empty()) {
          sem_post(sem->sem);  // every request was cancelled meanwhile: give it back
          continue;
        }
        Request* request = w->queue.front();
        w->queue.pop_front();
        if (request->thenPost) sem_post(request->thenPost->sem);
        Deliver(request);
      } else if (err != ETIMEDOUT) {
        Request* request = w->queue.front();
        w->queue.pop_front();
        request->error = err;
        Deliver(request);
      }
      if (!w->queue.empty() && !ready_.empty() && idle_ == 0 && threads_ >= kMaxThreads) {
        w->attached = false;
        w->ready = true;
        ready_.push_back(w);
        return;
      }
    }
  }

  // Under the mutex, so that CancelAll and Release cannot interleave.
  void Deliver(Request* request) {
    if (!request->dispatcher->Send(request)) {
      if (request->error == 0) sem_post(request->sem->sem);  // nobody will take it
      delete request;
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::unordered_map<sem_t*, Waited*> waited_;
  std::deque<Waited*> ready_;
  int threads_ = 0;
  int idle_ = 0;
  pid_t pid_ = g_pid;
};

// The environment is going away: its requests are dropped, and no waiter
// delivers to it any more.
void DropRequestsOf(Dispatcher* dispatcher) { WaiterPool::Get().CancelAll(dispatcher); }

void DeliverToJs(Napi::Env env, Napi::Function callback, Request* request) {
  std::unique_ptr<Request> owned(request);
  if (env == nullptr || callback.IsEmpty()) {
    if (request->error == 0) sem_post(request->sem->sem);  // nobody will take it
    return;
  }
  try {
    callback.Call({Napi::Number::New(env, request->id), Napi::Number::New(env, request->error)});
  } catch (const Napi::Error& thrown) {
    napi_fatal_exception(env, thrown.Value());  // as any uncaught error in a callback
  }
}

}  // namespace


Napi::Value SetCallback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "The \"callback\" argument must be a function");
  Dispatcher::Register(env, info[0].As<Napi::Function>(), "multiprocessing.semlock", DropRequestsOf);
  return env.Undefined();
}

void Submit(Napi::Env env, double id, std::shared_ptr<Sem> sem, std::shared_ptr<Sem> thenPost) {
  Dispatcher* d = Dispatcher::Current(env);
  auto* request = new Request{d, id, std::move(sem), std::move(thenPost), 0};
  d->AddPending(env);
  WaiterPool::Get().Submit(request);
}

bool Cancel(Napi::Env env, double id) {
  Dispatcher* d = Dispatcher::Current(env);
  bool removed = WaiterPool::Get().Cancel(d, id);
  if (removed) d->DropPending(env);
  return removed;
}

void PrepareFork() { WaiterPool::Get().LockForFork(); }
void ParentAfterFork() { WaiterPool::Get().UnlockAfterFork(); }
void ChildAfterFork() {
  WaiterPool::Get().UnlockAfterFork();  // the pool of the parent; Get() resets it on next use
  g_pid = getpid();
}

}  // namespace waiters
}  // namespace mp
