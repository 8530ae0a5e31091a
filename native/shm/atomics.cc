// node.h first: its node_version.h defines NAPI_VERSION unconditionally.
#include <node.h>

#include "shm/atomics.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "core/args.h"
#include "core/errors.h"
#include "core/js_dispatcher.h"
#include "core/v8_values.h"

namespace mp {

namespace {

// Waits and wakes across processes on a word of shared memory: a futex
// keyed by the physical page (not FUTEX_PRIVATE_FLAG), so every process
// that maps the page meets at the same word, whatever its address there.
// Results: kOk (woken, or a spurious wake), kNotEqual, kTimedOut.
constexpr int kOk = 0;
constexpr int kNotEqual = 1;
constexpr int kTimedOut = 2;

pid_t g_pid = getpid();

// A word to wait on: 4 bytes, or the low half of 8 (a futex is 32 bits).
struct Word {
  void* addr;
  bool wide;
  int64_t expected;

  uint32_t* FutexWord() const {
    auto* bytes = static_cast<unsigned char*>(addr);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    if (wide) bytes += 4;
#endif
    return reinterpret_cast<uint32_t*>(bytes);
  }

  bool Holds() const {
    if (wide) return __atomic_load_n(static_cast<int64_t*>(addr), __ATOMIC_SEQ_CST) == expected;
    return __atomic_load_n(static_cast<int32_t*>(addr), __ATOMIC_SEQ_CST) == static_cast<int32_t>(expected);
  }
};

// Blocks the calling thread until woken or the deadline (MonotonicNs; -1
// for ever). A signal does not end the wait: it goes on to the same deadline.
int FutexWait(const Word& word, int64_t deadlineNs, int* error) {
  *error = 0;
#if defined(__linux__)
  if (!word.Holds()) return kNotEqual;
  uint32_t expected = static_cast<uint32_t>(static_cast<uint64_t>(word.expected) & 0xffffffffu);
  for (;;) {
    timespec ts;
    timespec* timeout = nullptr;
    if (deadlineNs >= 0) {
      ts.tv_sec = static_cast<time_t>(deadlineNs / 1000000000LL);
      ts.tv_nsec = static_cast<long>(deadlineNs % 1000000000LL);
      timeout = &ts;
    }
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline.
    long r = syscall(SYS_futex, word.FutexWord(), FUTEX_WAIT_BITSET, expected, timeout, nullptr, FUTEX_BITSET_MATCH_ANY);
    if (r == 0) return kOk;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return kNotEqual;
    if (errno == ETIMEDOUT) return kTimedOut;
    *error = errno;
    return -1;
  }
#else
  (void)word;
  (void)deadlineNs;
  *error = ENOSYS;
  return -1;
#endif
}

int FutexWake(void* addr, bool wide, int count, int* error) {
  *error = 0;
#if defined(__linux__)
  Word word{addr, wide, 0};
  long r = syscall(SYS_futex, word.FutexWord(), FUTEX_WAKE, count, nullptr, nullptr, 0);
  if (r < 0) {
    *error = errno;
    return -1;
  }
  return static_cast<int>(r);
#else
  (void)addr;
  (void)wide;
  (void)count;
  *error = ENOSYS;
  return -1;
#endif
}

// (sharedArrayBuffer, byteOffset, wide): the word, checked; the backing
// store is returned too, for an async wait to keep the memory alive.
std::shared_ptr<v8::BackingStore> ResolveWord(const Napi::CallbackInfo& info, void** addr, bool* wide) {
  Napi::Env env = info.Env();
  v8::Local<v8::Value> value = ToV8(info[0]);
  if (value.IsEmpty() || !value->IsSharedArrayBuffer()) {
    throw Napi::TypeError::New(env, "The \"buffer\" argument must be a SharedArrayBuffer");
  }
  std::shared_ptr<v8::BackingStore> store = value.As<v8::SharedArrayBuffer>()->GetBackingStore();
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "The \"byteOffset\" argument must be a number");
  double offset = info[1].As<Napi::Number>().DoubleValue();
  *wide = info[2].ToBoolean().Value();
  size_t size = *wide ? 8 : 4;
  if (!(offset >= 0) || offset + size > static_cast<double>(store->ByteLength()) ||
      static_cast<uint64_t>(offset) % size != 0) {
    throw Napi::RangeError::New(env, "The word is outside the buffer or not aligned");
  }
  *addr = static_cast<unsigned char*>(store->Data()) + static_cast<size_t>(offset);
  return store;
}

int64_t ArgExpected(const Napi::CallbackInfo& info, size_t i, bool wide) {
  if (wide) {
    if (!info[i].IsBigInt()) throw Napi::TypeError::New(info.Env(), "The \"value\" argument must be a bigint");
    bool lossless;
    return info[i].As<Napi::BigInt>().Int64Value(&lossless);
  }
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "The \"value\" argument must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

// atomicsWaitSync(sab, byteOffset, wide, value, timeoutMs) → 0 | 1 | 2
Napi::Value WaitSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void* addr;
  bool wide;
  std::shared_ptr<v8::BackingStore> store = ResolveWord(info, &addr, &wide);
  Word word{addr, wide, ArgExpected(info, 3, wide)};
  int error;
  int result = FutexWait(word, ArgDeadlineNs(info, 4, "timeoutMs"), &error);
  if (result < 0) throw ErrnoError(env, error, "futex");
  return Napi::Number::New(env, result);
}

// atomicsNotify(sab, byteOffset, wide, count) → how many waiters woke, in every process.
Napi::Value Notify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void* addr;
  bool wide;
  std::shared_ptr<v8::BackingStore> store = ResolveWord(info, &addr, &wide);
  double count = info[3].IsNumber() ? info[3].As<Napi::Number>().DoubleValue() : INFINITY;
  int n = count >= INT_MAX ? INT_MAX : count < 0 ? 0 : static_cast<int>(count);
  int error;
  int woken = FutexWake(addr, wide, n, &error);
  if (woken < 0) throw ErrnoError(env, error, "futex");
  return Napi::Number::New(env, woken);
}

// ---------------------------------------------------------------------------
// Async waits: each pending wait is a thread of ours blocked in the kernel
// (a futex wakes a given number of waiters, so one thread cannot stand for
// several without miscounting a notify). Threads are reused, exit after
// idling, and report through a thread-safe function.

struct WaitRequest;
void DeliverToJs(Napi::Env env, Napi::Function callback, WaitRequest* request);
// One per JavaScript environment.
using Dispatcher = JsDispatcher<WaitRequest, DeliverToJs>;

struct WaitRequest {
  Dispatcher* dispatcher;
  double id;
  std::shared_ptr<v8::BackingStore> store;  // the memory stays mapped while waited on
  Word word;
  int64_t deadlineNs;
  int result = 0;
  int error = 0;
};

class WaitThreads {
 public:
  static WaitThreads& Get() {
    static WaitThreads* threads = new WaitThreads();  // never destroyed: threads may outlive exit()
    threads->ResetIfForked();
    return *threads;
  }

  // False when no thread can be had (the limit, or the system's).
  bool Submit(WaitRequest* request) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Every waiting request needs an idle thread of its own, at once: a
    // wait not yet in the kernel would miss a notify.
    if (idle_ <= static_cast<int>(queue_.size())) {
      if (threads_ >= kMaxThreads || !StartThread()) return false;
    }
    queue_.push_back(request);
    wake_.notify_one();
    return true;
  }

  void LockForFork() { mutex_.lock(); }
  void UnlockAfterFork() { mutex_.unlock(); }

  std::mutex& Mutex() { return mutex_; }

  static constexpr int kMaxThreads = 4096;

 private:
  static constexpr auto kIdleExit = std::chrono::seconds(2);
  static constexpr size_t kStackBytes = 128 << 10;

  // Under mutex_.
  bool StartThread() {
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return false;
    pthread_attr_setstacksize(&attr, kStackBytes);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int err = pthread_create(&thread, &attr, [](void* self) -> void* {
      static_cast<WaitThreads*>(self)->Work();
      return nullptr;
    }, this);
    pthread_attr_destroy(&attr);
    if (err != 0) return false;
    ++threads_;
    ++idle_;  // counted idle until it takes its first request
    return true;
  }

  void ResetIfForked() {
    if (pid_ == g_pid) return;
    pid_ = g_pid;
    new (&wake_) std::condition_variable();
    new (&queue_) std::deque<WaitRequest*>();
    threads_ = 0;
    idle_ = 0;
  }

  void Work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (!wake_.wait_for(lock, kIdleExit, [this] { return !queue_.empty(); })) {
        --idle_;
        --threads_;
        return;
      }
      WaitRequest* request = queue_.front();
      queue_.pop_front();
      --idle_;
      lock.unlock();
      request->result = FutexWait(request->word, request->deadlineNs, &request->error);
      lock.lock();
      Deliver(request);
      ++idle_;
    }
  }

  // Under mutex_, so that an environment's cleanup cannot interleave.
  void Deliver(WaitRequest* request) {
    if (!request->dispatcher->Send(request)) delete request;
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<WaitRequest*> queue_;
  int threads_ = 0;
  int idle_ = 0;
  pid_t pid_ = g_pid;
};

void DeliverToJs(Napi::Env env, Napi::Function callback, WaitRequest* request) {
  std::unique_ptr<WaitRequest> owned(request);
  if (env == nullptr || callback.IsEmpty()) return;
  Napi::Value error = request->result < 0 ? Napi::Value(ErrnoError(env, request->error, "futex").Value()) : env.Null();
  try {
    callback.Call({Napi::Number::New(env, request->id), Napi::Number::New(env, request->result), error});
  } catch (const Napi::Error& thrown) {
    napi_fatal_exception(env, thrown.Value());
  }
}

// The environment is going away: waits in flight deliver nothing (their
// threads end when woken or timed out).
void CloseDispatcher(Dispatcher* dispatcher) {
  std::lock_guard<std::mutex> lock(WaitThreads::Get().Mutex());
  dispatcher->Close();
}

// atomicsSetCallback(fn(id, result, error)): where async waits report.
Napi::Value SetCallback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "The \"callback\" argument must be a function");
  Dispatcher::Register(env, info[0].As<Napi::Function>(), "multiprocessing.atomics", CloseDispatcher);
  return env.Undefined();
}

// atomicsWaitAsync(sab, byteOffset, wide, value, timeoutMs, id): the result
// comes to the callback; throws when no waiting thread can be had.
Napi::Value WaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Dispatcher* d = Dispatcher::Current(env);
  void* addr;
  bool wide;
  std::shared_ptr<v8::BackingStore> store = ResolveWord(info, &addr, &wide);
  auto request = std::make_unique<WaitRequest>();
  request->dispatcher = d;
  request->id = info[5].As<Napi::Number>().DoubleValue();
  request->word = Word{addr, wide, ArgExpected(info, 3, wide)};
  request->deadlineNs = ArgDeadlineNs(info, 4, "timeoutMs");
  request->store = std::move(store);
  d->AddPending(env);
  if (!WaitThreads::Get().Submit(request.get())) {
    d->DropPending(env);
    throw Napi::RangeError::New(env, "too many pending atomics.wait() calls in this process (" +
                                         std::to_string(WaitThreads::kMaxThreads) + ")");
  }
  request.release();
  return env.Undefined();
}

void PrepareFork() { WaitThreads::Get().LockForFork(); }
void ParentAfterFork() { WaitThreads::Get().UnlockAfterFork(); }
void ChildAfterFork() {
  WaitThreads::Get().UnlockAfterFork();  // the parent's state; Get() resets it on next use
  g_pid = getpid();
}

}  // namespace

void InitAtomics(Napi::Env env, Napi::Object exports) {
  static bool atforkRegistered = false;
  if (!atforkRegistered) {
    int err = pthread_atfork(PrepareFork, ParentAfterFork, ChildAfterFork);
    if (err != 0) throw ErrnoError(env, err, "pthread_atfork");
    atforkRegistered = true;
  }
  exports.Set("atomicsWaitSync", Napi::Function::New(env, WaitSync, "atomicsWaitSync"));
  exports.Set("atomicsWaitAsync", Napi::Function::New(env, WaitAsync, "atomicsWaitAsync"));
  exports.Set("atomicsNotify", Napi::Function::New(env, Notify, "atomicsNotify"));
  exports.Set("atomicsSetCallback", Napi::Function::New(env, SetCallback, "atomicsSetCallback"));
}

}  // namespace mp
