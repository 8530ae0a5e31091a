// node.h first: its node_version.h defines NAPI_VERSION unconditionally.
#include <node.h>

#include "fork/fork.h"
#include <uv.h>
#include <v8.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <dlfcn.h>
#include <fcntl.h>
#include <memory>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#if defined(__linux__)
#include <sys/random.h>
#else
#include <stdlib.h>
#endif
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "fork/child_loop.h"
#include "fork/child_platform.h"
#include "socket/conn.h"
#include "core/errors.h"
#include "fd/fd.h"
#include "fork/forkability.h"
#include "fork/threadpool_pause.h"

namespace mp {

namespace {

// Taken at load time: napi_get_uv_event_loop() crashes in a fork child.
uv_loop_t* g_loop = nullptr;

// CLOCK_MONOTONIC readings (ms, the clock of process.hrtime) of the last
// fork: entry, just before fork(), the child's first instruction after it,
// and the child's native setup done. bench/startup reads them to split a
// start into phases; a clock_gettime through the vDSO costs ~20 ns.
enum ForkClock { kEntered, kForking, kChildRunning, kChildReady, kForkClockCount };
double g_forkClock[kForkClockCount] = {};

void ReadForkClock(ForkClock which) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  g_forkClock[which] = static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

// Every V8 option that would post work to platform worker threads, which
// do not exist in a fork child (only the forking thread is copied). Used
// only when the child cannot be given worker threads of its own: changing
// GC flags under a live heap is not safe in general (a child that turned
// off parallel marking never joined cppgc's concurrent markers, which V8's
// CHECK in ~MarkerBase caught as SIGTRAP).
// How long fork() waits for the threadpool's current work (queued before it)
// to finish; past it, it forks anyway (a job that never ends, such as a
// blocking read of a pipe with fs.read, must not stop every start()).
constexpr int kThreadpoolPauseMs = 5000;

constexpr const char kChildV8Flags[] =
    "--single-threaded-gc --no-concurrent-marking --no-concurrent-sweeping "
    "--no-parallel-scavenge --no-parallel-marking --no-parallel-compaction "
    "--no-parallel-pointer-update --no-concurrent-array-buffer-sweeping "
    "--no-concurrent-minor-mc-marking --no-cppheap-concurrent-marking "
    "--no-concurrent-recompilation --no-concurrent-osr --no-concurrent-sparkplug "
    "--no-lazy-compile-dispatcher --no-parallel-compile-tasks-for-lazy "
    "--no-parallel-compile-tasks-for-eager-toplevel "
    "--no-concurrent-cache-deserialization --no-wasm-tier-up "
    "--no-wasm-dynamic-tiering --no-wasm-async-compilation "
    "--wasm-num-compilation-tasks=0 --no-stress-concurrent-allocation";

[[noreturn]] void ChildFatal(const char* what, int err) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "multiprocessing: fork child setup failed: %s: %s\n", what,
                        std::strerror(err));
  if (n > 0) {
    ssize_t ignored = write(STDERR_FILENO, buf, static_cast<size_t>(n));
    (void)ignored;
  }
  _exit(70);
}

// The child's stdin reads end-of-file at once, as Python's children read
// os.devnull; a pipe (not /dev/null) so that epoll accepts it.
void ReplaceStdinWithEof() {
  int fds[2];
  if (pipe(fds) != 0) ChildFatal("pipe", errno);
  close(fds[1]);
  if (fds[0] != STDIN_FILENO) {
    if (dup2(fds[0], STDIN_FILENO) < 0) ChildFatal("dup2", errno);
    close(fds[0]);
  }
}

// Lets the platform's worker threads finish what they run now: a job that is
// mid-flight at fork() would be waited on forever in the child (its worker
// does not exist there). Node does the same drain after every loop turn.
node::MultiIsolatePlatform* CurrentPlatform(v8::Isolate* isolate) {
  node::Environment* env = node::GetCurrentEnvironment(isolate->GetCurrentContext());
  return env == nullptr ? nullptr : node::GetMultiIsolatePlatform(env);
}

void DrainPlatform(v8::Isolate* isolate) {
  node::MultiIsolatePlatform* platform = CurrentPlatform(isolate);
  if (platform != nullptr) platform->DrainTasks(isolate);
  child_platform::Drain();  // a fork child's own workers, if it has them
}

// V8's microtask queue internals, exported by the node binary. A queue that
// "is running" refuses a public checkpoint, and fork() called from inside a
// microtask (after any await) leaves the child inside that running
// checkpoint forever; only the internal entry runs it again. Looked up once,
// in the parent; absent symbols fall back to the public API.
using RunMicrotasksFn = int (*)(void* queue, void* isolate);
RunMicrotasksFn g_runMicrotasks = nullptr;
const size_t* g_queueSizeOffset = nullptr;

void LookUpMicrotaskInternals() {
  g_runMicrotasks = reinterpret_cast<RunMicrotasksFn>(
      dlsym(RTLD_DEFAULT, "_ZN2v88internal14MicrotaskQueue13RunMicrotasksEPNS0_7IsolateE"));
  g_queueSizeOffset = static_cast<const size_t*>(
      dlsym(RTLD_DEFAULT, "_ZN2v88internal14MicrotaskQueue11kSizeOffsetE"));
}

// Math.random() keeps its state in each native context, seeded once from
// the isolate's generator; a fork child inherits both, so every child of
// one parent (of a forkserver: every child) would draw the same numbers.
// Python reseeds its random module after fork; here each child reseeds the
// isolate's generator from the OS and resets the context's state, through
// V8 internals the node binary exports (looked up once, in the parent; when
// one is missing, nothing is reseeded).
using RngOfIsolateFn = void* (*)(void* isolate);
using RngSetSeedFn = void (*)(void* rng, int64_t seed);
using ResetMathRandomFn = void (*)(uintptr_t nativeContext);
RngOfIsolateFn g_rngOfIsolate = nullptr;
RngSetSeedFn g_rngSetSeed = nullptr;
ResetMathRandomFn g_resetMathRandom = nullptr;

void LookUpRandomInternals() {
  g_rngOfIsolate = reinterpret_cast<RngOfIsolateFn>(
      dlsym(RTLD_DEFAULT, "_ZN2v88internal7Isolate23random_number_generatorEv"));
  g_rngSetSeed = reinterpret_cast<RngSetSeedFn>(
      dlsym(RTLD_DEFAULT, "_ZN2v84base21RandomNumberGenerator7SetSeedEl"));
  g_resetMathRandom = reinterpret_cast<ResetMathRandomFn>(
      dlsym(RTLD_DEFAULT, "_ZN2v88internal10MathRandom12ResetContextENS0_7ContextE"));
}

int64_t FreshSeed() {
  int64_t seed = 0;
#if defined(__linux__)
  if (getrandom(&seed, sizeof seed, 0) == static_cast<ssize_t>(sizeof seed)) return seed;
#else
  arc4random_buf(&seed, sizeof seed);
  if (seed != 0) return seed;
#endif
  // No entropy source answered: the clock and the pid still differ per child.
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (static_cast<int64_t>(now.tv_nsec) << 20) ^ now.tv_sec ^ (static_cast<int64_t>(getpid()) << 40);
}

void ReseedMathRandom(v8::Isolate* isolate) {
  if (g_rngOfIsolate == nullptr || g_rngSetSeed == nullptr || g_resetMathRandom == nullptr) return;
  g_rngSetSeed(g_rngOfIsolate(isolate), FreshSeed());
  // A Local is the address of a handle slot holding the context's tagged pointer.
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  g_resetMathRandom(*reinterpret_cast<const uintptr_t*>(*context));
}

// Jobs the parent had queued belong to the parent's code paths; emptying
// the ring buffer (size = 0) keeps them from running in the child.
void DropInheritedMicrotasks(v8::Isolate* isolate) {
  if (g_queueSizeOffset == nullptr) return;
  v8::MicrotaskQueue* queue = isolate->GetCurrentContext()->GetMicrotaskQueue();
  *reinterpret_cast<intptr_t*>(reinterpret_cast<char*>(queue) + *g_queueSizeOffset) = 0;
}

void SetUpChild(v8::Isolate* isolate, bool dieWithParent, pid_t parentPid) {
#if defined(__linux__)
  if (dieWithParent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFatal("prctl(PR_SET_PDEATHSIG)", errno);
    // The parent may have died before prctl took effect.
    if (getppid() != parentPid) _exit(1);
  }
#else
  (void)dieWithParent;
  (void)parentPid;
#endif
  int err = AdoptLoopInChild(g_loop);
  if (err != 0) ChildFatal("uv_loop_fork", -err);
  OrphanIoWatchersInChild();
  ReplaceStdinWithEof();
  if (!child_platform::Install(CurrentPlatform(isolate))) {
    v8::V8::SetFlagsFromString(kChildV8Flags, sizeof(kChildV8Flags) - 1);
  }
  DropInheritedMicrotasks(isolate);
  ReseedMathRandom(isolate);
}

// fork({ dieWithParent }) → { pid, sentinel } in the parent, { pid: 0 } in
// the child.
Napi::Value Fork(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool dieWithParent = false;
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Value v = info[0].As<Napi::Object>().Get("dieWithParent");
    dieWithParent = v.ToBoolean().Value();
  }
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  ReadForkClock(kEntered);

  // Reserve the descriptor the sentinel will take, so that EMFILE shows up
  // before fork() and not after, with a child already running.
  int reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (reserve < 0) ThrowErrno(env, "open");
  int pipeFds[2] = {-1, -1};
#if !defined(__linux__)
  if (pipe(pipeFds) != 0) {
    int e = errno;
    close(reserve);
    ThrowErrno(env, e, "pipe");
  }
  if (fcntl(pipeFds[0], F_SETFD, FD_CLOEXEC) != 0) {
    int e = errno;
    close(reserve), close(pipeFds[0]), close(pipeFds[1]);
    ThrowErrno(env, e, "fcntl");
  }
#endif

  DrainPlatform(isolate);
  // No pool thread may be inside crypto, zlib or getaddrinfo (holding their
  // locks) when the child is copied; the work queued so far finishes first.
  // Every threadpool job of this loop is an active request until its
  // callback has run: with none, there is nothing to wait for (work of
  // worker_threads' loops, which share the pool, is not seen).
  std::optional<ThreadpoolPause> pause;
  if (g_loop->active_reqs.count > 0) pause.emplace(g_loop, kThreadpoolPauseMs);
  forkability::Plan plan;
  int err = forkability::Prepare(&plan);
  if (err != 0) {
    forkability::Restore(plan);
    close(reserve);
    if (pipeFds[0] >= 0) close(pipeFds[0]), close(pipeFds[1]);
    ThrowErrno(env, err, "read(/proc/self/maps)");
  }
  pid_t parentPid = getpid();
  ReadForkClock(kForking);
  pid_t pid = fork();
  int forkErrno = errno;
  if (pid == 0) ReadForkClock(kChildRunning);
  forkability::Restore(plan);

  if (pid == 0) {
    if (pause) pause->AbandonInChild();
    close(reserve);
    if (pipeFds[0] >= 0) close(pipeFds[0]);  // the child keeps the write end
    SetUpChild(isolate, dieWithParent, parentPid);
    ReadForkClock(kChildReady);
    Napi::Object result = Napi::Object::New(env);
    result.Set("pid", Napi::Number::New(env, 0));
    return result;
  }
  if (pid < 0) {
    close(reserve);
    if (pipeFds[0] >= 0) close(pipeFds[0]), close(pipeFds[1]);
    ThrowErrno(env, forkErrno, "fork");
  }

  close(reserve);
  int sentinel;
#if defined(__linux__)
  sentinel = PidfdOpen(pid);
  if (sentinel < 0) {
    int e = errno;
    kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ThrowErrno(env, e, "pidfd_open");
  }
#else
  close(pipeFds[1]);
  sentinel = pipeFds[0];
#endif
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, pid));
  result.Set("sentinel", Napi::Number::New(env, sentinel));
  return result;
}

Napi::Value RunLoopOnceJs(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), RunLoopOnce(g_loop));
}

// Runs the jobs queued on the current context's microtask queue.
Napi::Value PerformMicrotaskCheckpoint(const Napi::CallbackInfo& info) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::MicrotaskQueue* queue = isolate->GetCurrentContext()->GetMicrotaskQueue();
  if (g_runMicrotasks != nullptr) {
    g_runMicrotasks(queue, isolate);
  } else {
    queue->PerformCheckpoint(isolate);
  }
  return info.Env().Undefined();
}

Napi::Value ForkClockJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array readings = Napi::Array::New(env, kForkClockCount);
  for (uint32_t i = 0; i < kForkClockCount; ++i) readings.Set(i, Napi::Number::New(env, g_forkClock[i]));
  return readings;
}

}  // namespace

void InitFork(Napi::Env env, Napi::Object exports) {
  if (napi_get_uv_event_loop(env, &g_loop) != napi_ok || g_loop == nullptr) {
    throw Napi::Error::New(env, "multiprocessing: cannot get the libuv loop");
  }
  LookUpMicrotaskInternals();
  LookUpRandomInternals();
  exports.Set("fork", Napi::Function::New(env, Fork, "fork"));
  exports.Set("runLoopOnce", Napi::Function::New(env, RunLoopOnceJs, "runLoopOnce"));
  exports.Set("performMicrotaskCheckpoint",
              Napi::Function::New(env, PerformMicrotaskCheckpoint, "performMicrotaskCheckpoint"));
  exports.Set("forkClock", Napi::Function::New(env, ForkClockJs, "forkClock"));
  exports.Set("nodeModuleVersion", Napi::Number::New(env, NODE_MODULE_VERSION));
}

}  // namespace mp
