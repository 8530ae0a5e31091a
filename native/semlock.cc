#include "semlock.h"

#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "args.h"
#include "errors.h"
#include "js_dispatcher.h"

namespace mp {

namespace {

// The pid, refreshed in fork children (getpid() is a system call).
pid_t g_pid = getpid();

// ---------------------------------------------------------------------------
// One opened named semaphore. Shared by the JavaScript handle and any
// waiter thread blocked on it, so that a handle collected while a waiter
// still sleeps does not unmap the semaphore under it.
struct Sem {
  sem_t* sem;
  explicit Sem(sem_t* s) : sem(s) {}
  ~Sem() { sem_close(sem); }
  Sem(const Sem&) = delete;
  Sem& operator=(const Sem&) = delete;
};

#if !defined(__APPLE__) && !(defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30)))
timespec AddNs(timespec t, int64_t ns) {
  int64_t total = static_cast<int64_t>(t.tv_nsec) + ns % 1000000000;
  t.tv_sec += static_cast<time_t>(ns / 1000000000 + total / 1000000000);
  t.tv_nsec = static_cast<long>(total % 1000000000);
  return t;
}
#endif

// Waits until the semaphore is acquired (0), the monotonic deadline passes
// (ETIMEDOUT) or it fails (errno). deadlineNs < 0 waits forever. EINTR is
// retried: the JavaScript thread cannot run signal handlers while it blocks
// here anyway, and libuv's handlers only write to a pipe.
int WaitUntil(sem_t* sem, int64_t deadlineNs) {
  for (;;) {
    int rc;
    if (deadlineNs < 0) {
      rc = sem_wait(sem);
    } else {
#if defined(__APPLE__)
      // macOS has no sem_timedwait: poll with a backoff capped at 20 ms.
      int64_t sleepNs = 100000;
      for (;;) {
        rc = sem_trywait(sem);
        if (rc == 0 || errno != EAGAIN) break;
        int64_t left = deadlineNs - MonotonicNs();
        if (left <= 0) {
          errno = ETIMEDOUT;
          break;
        }
        int64_t nap = sleepNs < left ? sleepNs : left;
        timespec pause = {static_cast<time_t>(nap / 1000000000), static_cast<long>(nap % 1000000000)};
        nanosleep(&pause, nullptr);
        if (sleepNs < 20000000) sleepNs *= 2;
      }
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
      timespec ts = {static_cast<time_t>(deadlineNs / 1000000000), static_cast<long>(deadlineNs % 1000000000)};
      rc = sem_clockwait(sem, CLOCK_MONOTONIC, &ts);
#else
      timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      int64_t left = deadlineNs - MonotonicNs();
      rc = sem_timedwait(sem, AddNs(now, left > 0 ? left : 0));
#endif
    }
    if (rc == 0) return 0;
    if (errno != EINTR) return errno;
  }
}


// glibc's semaphore (nptl's struct new_sem, with 64-bit atomics): one
// 64-bit word, the value in its low half and the number of sleeping waiters
// in its high half, then the futex "private" flag. Where that holds, the
// uncontended paths run in JavaScript with Atomics on the same words (no
// native call); a release that sees waiters asks wake() for the futex wake
// glibc's sem_post would make. FastLayoutWorks() checks the layout once.
#if defined(__GLIBC__) && defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__)) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MP_GLIBC_SEM_LAYOUT 1
#endif

bool FastLayoutWorks() {
#if defined(MP_GLIBC_SEM_LAYOUT)
  static const bool works = [] {
    if (sizeof(sem_t) < 16) return false;
    alignas(8) sem_t sem;
    if (sem_init(&sem, 1, 5) != 0) return false;
    auto* words = reinterpret_cast<volatile int32_t*>(&sem);
    bool ok = words[0] == 5 && words[1] == 0 && words[2] == FUTEX_PRIVATE_FLAG;  // FUTEX_SHARED
    ok = ok && sem_trywait(&sem) == 0 && words[0] == 4;
    ok = ok && sem_post(&sem) == 0 && words[0] == 5;
    words[0] = 7;
    int value = -1;
    ok = ok && sem_getvalue(&sem, &value) == 0 && value == 7;
    sem_destroy(&sem);
    return ok;
  }();
  return works;
#else
  return false;
#endif
}

// ---------------------------------------------------------------------------
// Async acquisition: waiter threads of our own (never libuv's pool, whose
// four threads fs and dns need) block on semaphores for the JavaScript
// threads and report through a thread-safe function.

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

// The environment is going away: its requests are dropped, and no waiter
// delivers to it any more.
void DropRequestsOf(Dispatcher* dispatcher) { WaiterPool::Get().CancelAll(dispatcher); }

// semLockSetCallback(fn(id, errno)): where async acquisitions report.
Napi::Value SetCallback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "The \"callback\" argument must be a function");
  Dispatcher::Register(env, info[0].As<Napi::Function>(), "multiprocessing.semlock", DropRequestsOf);
  return env.Undefined();
}

// ---------------------------------------------------------------------------

class SemLock : public Napi::ObjectWrap<SemLock> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SemLock",
                       {
                           InstanceMethod<&SemLock::TryAcquire>("tryAcquire"),
                           InstanceMethod<&SemLock::AcquireSync>("acquireSync"),
                           InstanceMethod<&SemLock::AcquireAsync>("acquireAsync"),
                           InstanceMethod<&SemLock::Release>("release"),
                           InstanceMethod<&SemLock::GetValue>("getValue"),
                           InstanceMethod<&SemLock::Wake>("wake"),
                           InstanceMethod<&SemLock::Words>("words"),
                           InstanceAccessor<&SemLock::Name>("name"),
                       });
  }

  // new SemLock(value, name, create): creates the semaphore `name` (mode
  // 0600, EEXIST if taken) or opens an existing one.
  explicit SemLock(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SemLock>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "The \"value\" argument must be a number");
    int64_t value = info[0].As<Napi::Number>().Int64Value();
    if (value < 0 || value > SEM_VALUE_MAX) throw Napi::RangeError::New(env, "The \"value\" argument is out of range");
    if (!info[1].IsString()) throw Napi::TypeError::New(env, "The \"name\" argument must be a string");
    name_ = info[1].As<Napi::String>().Utf8Value();
    bool create = info.Length() > 2 && info[2].ToBoolean().Value();
    // Creating takes a name the caller chose (and registered with the
    // resource tracker first): O_EXCL, EEXIST for a taken one.
    sem_t* sem = create ? sem_open(name_.c_str(), O_CREAT | O_EXCL, 0600, static_cast<unsigned>(value))
                        : sem_open(name_.c_str(), 0);
    if (sem == SEM_FAILED) {
      Napi::Error error = ErrnoError(env, errno, "sem_open");
      error.Set("message", Napi::String::New(env, "sem_open(" + name_ + ") failed: " +
                                                      error.Get("message").As<Napi::String>().Utf8Value()));
      throw error;
    }
    sem_ = std::make_shared<Sem>(sem);
  }

 private:
  // tryAcquire() → boolean, never blocks.
  Napi::Value TryAcquire(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (sem_trywait(sem_->sem) == 0) return Napi::Boolean::New(env, true);
    if (errno != EAGAIN && errno != EINTR) throw ErrnoError(env, errno, "sem_trywait");
    return Napi::Boolean::New(env, false);
  }

  // acquireSync(timeoutMs | null) → boolean; blocks this thread.
  Napi::Value AcquireSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int64_t deadline = ArgDeadlineNs(info, 0, "timeout");
    int err = WaitUntil(sem_->sem, deadline);
    if (err == 0) return Napi::Boolean::New(env, true);
    if (err == ETIMEDOUT) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, err, deadline < 0 ? "sem_wait" : "sem_timedwait");
  }

  // acquireAsync(id, thenPost: SemLock | null): a waiter thread acquires and
  // reports (id, 0), or (id, errno), through semLockSetCallback's function.
  Napi::Value AcquireAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Dispatcher* d = Dispatcher::Current(env);
    auto* request = new Request{d, info[0].As<Napi::Number>().DoubleValue(), sem_, nullptr, 0};
    if (info.Length() > 1 && info[1].IsObject()) request->thenPost = SemLock::Unwrap(info[1].As<Napi::Object>())->sem_;
    d->AddPending(env);
    WaiterPool::Get().Submit(request);
    return env.Undefined();
  }

  // release(maxvalue) → true, or false (nothing posted) when the value is
  // already maxvalue. As CPython's check, not a guarantee against a race
  // with another releaser.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int64_t maxvalue = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int64Value() : SEM_VALUE_MAX;
    if (maxvalue < SEM_VALUE_MAX) {
#if !defined(__APPLE__)
      int value;
      if (sem_getvalue(sem_->sem, &value) != 0) throw ErrnoError(env, errno, "sem_getvalue");
      if (value >= maxvalue) return Napi::Boolean::New(env, false);
#else
      // No sem_getvalue on macOS: probe with trywait, as CPython does.
      if (sem_trywait(sem_->sem) == 0) {
        sem_post(sem_->sem);
        if (maxvalue == 1) return Napi::Boolean::New(env, false);
      } else if (errno != EAGAIN) {
        throw ErrnoError(env, errno, "sem_trywait");
      }
#endif
    }
    if (sem_post(sem_->sem) != 0) throw ErrnoError(env, errno, "sem_post");
    return Napi::Boolean::New(env, true);
  }

  Napi::Value GetValue(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
#if defined(__APPLE__)
    throw ErrnoError(env, ENOSYS, "sem_getvalue");
#else
    int value;
    if (sem_getvalue(sem_->sem, &value) != 0) throw ErrnoError(env, errno, "sem_getvalue");
    return Napi::Number::New(env, value < 0 ? 0 : value);  // Linux reports waiters as 0, others as < 0
#endif
  }

  // wake(): after a post made through words(), wakes one waiter as glibc's
  // sem_post does when it saw waiters.
  Napi::Value Wake(const Napi::CallbackInfo& info) {
#if defined(MP_GLIBC_SEM_LAYOUT)
    auto* word = reinterpret_cast<uint32_t*>(sem_->sem);
    int privateFlag = reinterpret_cast<int*>(sem_->sem)[2];
    long rc = syscall(SYS_futex, word, (FUTEX_WAKE | FUTEX_PRIVATE_FLAG) ^ privateFlag, 1, nullptr, nullptr, 0);
    if (rc < 0) throw ErrnoError(info.Env(), errno, "futex");
#endif
    return info.Env().Undefined();
  }

  // words() → Int32Array over the semaphore's value (index 0) and waiter
  // count (index 1), or null where glibc's layout is not known to hold.
  Napi::Value Words(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!FastLayoutWorks()) return env.Null();
    auto* keep = new std::shared_ptr<Sem>(sem_);
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
        env, static_cast<void*>(sem_->sem), 8, [](Napi::Env, void*, std::shared_ptr<Sem>* hint) { delete hint; }, keep);
    return Napi::Int32Array::New(env, 2, buffer, 0);
  }

  Napi::Value Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }

  std::shared_ptr<Sem> sem_;
  std::string name_;
};

// semLockCancel(id) → true if removed before any waiter acquired for it.
Napi::Value Cancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Dispatcher* d = Dispatcher::Current(env);
  bool removed = WaiterPool::Get().Cancel(d, info[0].As<Napi::Number>().DoubleValue());
  if (removed) d->DropPending(env);
  return Napi::Boolean::New(env, removed);
}

// semUnlink(name): ENOENT is not an error (already gone).
Napi::Value Unlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "The \"name\" argument must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (sem_unlink(name.c_str()) != 0 && errno != ENOENT) throw ErrnoError(env, errno, "sem_unlink");
  return env.Undefined();
}

void PrepareFork() { WaiterPool::Get().LockForFork(); }
void ParentAfterFork() { WaiterPool::Get().UnlockAfterFork(); }
void ChildAfterFork() {
  WaiterPool::Get().UnlockAfterFork();  // the pool of the parent; Get() resets it on next use
  g_pid = getpid();
}

}  // namespace

void InitSemLock(Napi::Env env, Napi::Object exports) {
  static bool atforkRegistered = false;
  if (!atforkRegistered) {
    int err = pthread_atfork(PrepareFork, ParentAfterFork, ChildAfterFork);
    if (err != 0) throw ErrnoError(env, err, "pthread_atfork");
    atforkRegistered = true;
  }
  exports.Set("SemLock", SemLock::Define(env));
  exports.Set("semLockSetCallback", Napi::Function::New(env, SetCallback, "semLockSetCallback"));
  exports.Set("semLockCancel", Napi::Function::New(env, Cancel, "semLockCancel"));
  exports.Set("semUnlink", Napi::Function::New(env, Unlink, "semUnlink"));
  exports.Set("semValueMax", Napi::Number::New(env, SEM_VALUE_MAX));
}

}  // namespace mp
