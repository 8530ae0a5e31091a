#include "semaphore/semlock.h"

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
#include <climits>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "core/args.h"
#include "core/errors.h"
#include "semaphore/sem.h"
#include "semaphore/waiters.h"

namespace mp {

namespace {


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
    std::shared_ptr<Sem> thenPost;
    if (info.Length() > 1 && info[1].IsObject()) thenPost = SemLock::Unwrap(info[1].As<Napi::Object>())->sem_;
    waiters::Submit(env, info[0].As<Napi::Number>().DoubleValue(), sem_, std::move(thenPost));
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
  return Napi::Boolean::New(env, waiters::Cancel(env, info[0].As<Napi::Number>().DoubleValue()));
}

// semUnlink(name): ENOENT is not an error (already gone).
Napi::Value Unlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "The \"name\" argument must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (sem_unlink(name.c_str()) != 0 && errno != ENOENT) throw ErrnoError(env, errno, "sem_unlink");
  return env.Undefined();
}

}  // namespace

void InitSemLock(Napi::Env env, Napi::Object exports) {
  static bool atforkRegistered = false;
  if (!atforkRegistered) {
    int err = pthread_atfork(waiters::PrepareFork, waiters::ParentAfterFork, waiters::ChildAfterFork);
    if (err != 0) throw ErrnoError(env, err, "pthread_atfork");
    atforkRegistered = true;
  }
  exports.Set("SemLock", SemLock::Define(env));
  exports.Set("semLockSetCallback", Napi::Function::New(env, waiters::SetCallback, "semLockSetCallback"));
  exports.Set("semLockCancel", Napi::Function::New(env, Cancel, "semLockCancel"));
  exports.Set("semUnlink", Napi::Function::New(env, Unlink, "semUnlink"));
  exports.Set("semValueMax", Napi::Number::New(env, SEM_VALUE_MAX));
}

}  // namespace mp
