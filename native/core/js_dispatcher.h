// Where threads of ours (semaphore waiters, futex waiters) hand results to
// JavaScript: one dispatcher per JavaScript environment and module, a
// thread-safe function that keeps the event loop alive exactly while
// requests are pending, made again in a fork child (the parent's is not
// the child's), and closed to deliveries when its environment goes away.
#pragma once

#include <napi.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <unordered_map>

namespace mp {

// Request: what a thread delivers (heap-allocated, owned by the receiver).
// Deliver(env, callback, request) runs on the JavaScript thread, env and
// callback empty when the environment is going away.
template <typename Request, void (*Deliver)(Napi::Env, Napi::Function, Request*)>
class JsDispatcher {
 public:
  // Registers `callback` as this environment's receiver; `onCleanup` runs
  // when the environment goes away (drop its requests there). Throws if
  // one was registered already.
  static void Register(Napi::Env env, Napi::Function callback, const char* name, void (*onCleanup)(JsDispatcher*)) {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    if (Registry().count(env) != 0) {
      throw Napi::Error::New(env, std::string("multiprocessing: the ") + name + " callback was already set");
    }
    auto* d = new JsDispatcher(name, onCleanup);  // never freed: a waiting thread may still look at it
    d->callback_ = Napi::Persistent(callback);
    d->MakeTsfn(env);
    Registry()[env] = d;
    napi_add_env_cleanup_hook(env, OnEnvCleanup, d);
  }

  // This environment's dispatcher, for this process.
  static JsDispatcher* Current(Napi::Env env) {
    JsDispatcher* d;
    {
      std::lock_guard<std::mutex> lock(RegistryMutex());
      auto found = Registry().find(env);
      d = found == Registry().end() ? nullptr : found->second;
    }
    if (d == nullptr || d->callback_.IsEmpty()) {
      throw Napi::Error::New(env, std::string("multiprocessing: the ") + "callback was not set");
    }
    if (d->pid_ != getpid()) {
      // A fork child: the parent's thread-safe function and requests are not its own.
      d->MakeTsfn(env);
      d->pending_ = 0;
    }
    return d;
  }

  // JavaScript thread: a request is under way; the loop stays alive.
  void AddPending(Napi::Env env) {
    if (pending_++ == 0) tsfn_.Ref(env);
  }

  // JavaScript thread: a request was delivered or cancelled.
  void DropPending(Napi::Env env) {
    if (pending_ > 0 && --pending_ == 0 && !closed_) tsfn_.Unref(env);
  }

  // Any thread, under the owner's lock that also guards Close(): false
  // when nothing will receive it (the caller still owns the request).
  bool Send(Request* request) { return !closed_ && tsfn_.NonBlockingCall(request) == napi_ok; }

  // Under the owner's lock: no delivery from now on.
  void Close() { closed_ = true; }

 private:
  static void CallJs(Napi::Env env, Napi::Function callback, JsDispatcher* d, Request* request) {
    if (static_cast<napi_env>(env) != nullptr && !callback.IsEmpty()) d->DropPending(env);
    Deliver(env, callback, request);
  }

  using Tsfn = Napi::TypedThreadSafeFunction<JsDispatcher, Request, CallJs>;

  JsDispatcher(const char* name, void (*onCleanup)(JsDispatcher*)) : name_(name), onCleanup_(onCleanup) {}

  void MakeTsfn(Napi::Env env) {
    tsfn_ = Tsfn::New(env, callback_.Value(), name_, 0, 1, this);
    tsfn_.Unref(env);
    pid_ = getpid();
  }

  static void OnEnvCleanup(void* data) {
    auto* d = static_cast<JsDispatcher*>(data);
    {
      std::lock_guard<std::mutex> lock(RegistryMutex());
      for (auto it = Registry().begin(); it != Registry().end(); ++it) {
        if (it->second == d) {
          Registry().erase(it);
          break;
        }
      }
    }
    d->onCleanup_(d);
    // Node closes the thread-safe function itself at teardown.
    d->callback_.Reset();
  }

  static std::mutex& RegistryMutex() {
    static auto* mutex = new std::mutex();
    return *mutex;
  }

  static std::unordered_map<napi_env, JsDispatcher*>& Registry() {
    static auto* registry = new std::unordered_map<napi_env, JsDispatcher*>();  // used until exit
    return *registry;
  }

  const char* name_;
  void (*onCleanup_)(JsDispatcher*);
  Tsfn tsfn_;
  Napi::FunctionReference callback_;
  pid_t pid_ = 0;
  int pending_ = 0;  // JavaScript thread only
  bool closed_ = false;
};

}  // namespace mp
