#include "spawn/spawn.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "core/args.h"
#include "core/errors.h"
#include "fd/fd.h"

namespace mp {

namespace {

void Check(Napi::Env env, int err, const char* call) {
  if (err != 0) ThrowErrno(env, err, call);
}

void CloexecPipe(Napi::Env env, UniqueFd* r, UniqueFd* w) {
  int p[2];
#if defined(__linux__)
  if (pipe2(p, O_CLOEXEC) != 0) ThrowErrno(env, "pipe2");
  r->reset(p[0]), w->reset(p[1]);
#else
  if (pipe(p) != 0) ThrowErrno(env, "pipe");
  r->reset(p[0]), w->reset(p[1]);
  SetCloexec(env, p[0]), SetCloexec(env, p[1]);
#endif
}

// Known before spawning: without pidfds the sentinel is a pipe the child
// inherits. Cached once certain (old kernel: ENOSYS; seccomp: EPERM).
bool PidfdSupported() {
  static std::atomic<int> known{-1};
  if (known.load() >= 0) return known.load() == 1;
  int fd = PidfdOpen(getpid());
  if (fd >= 0) close(fd), known = 1;
  else if (errno == ENOSYS || errno == EPERM) known = 0;
  return fd >= 0;
}

std::string StringOption(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsString()) ThrowType(env, std::string("options.") + name, "property must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) ThrowType(env, std::string("options.") + name, "property must not contain null bytes");
  return s;
}

// The strings, then a null-terminated array of pointers into them.
using CStrings = std::pair<std::vector<std::string>, std::vector<char*>>;
CStrings StringsOption(Napi::Env env, Napi::Object options, const char* name) {
  Napi::Value v = options.Get(name);
  if (!v.IsArray()) ThrowType(env, std::string("options.") + name, "property must be an array of strings");
  Napi::Array array = v.As<Napi::Array>();
  CStrings out;
  for (uint32_t i = 0; i < array.Length(); ++i) out.first.push_back(StringOption(env, array.Get(i), name));
  for (std::string& s : out.first) out.second.push_back(s.data());
  out.second.push_back(nullptr);
  return out;
}

std::vector<std::pair<int, int>> FdMapOption(Napi::Env env, Napi::Object options) {
  const char* what = "property must be an array of [childFd, parentFd] pairs of numbers >= 0";
  Napi::Value v = options.Get("fds");
  if (!v.IsArray()) ThrowType(env, "options.fds", what);
  std::vector<std::pair<int, int>> out;
  for (uint32_t i = 0; i < v.As<Napi::Array>().Length(); ++i) {
    Napi::Value pair = v.As<Napi::Array>().Get(i);
    if (!pair.IsArray()) ThrowType(env, "options.fds", what);
    Napi::Value child = pair.As<Napi::Array>().Get(0u), parent = pair.As<Napi::Array>().Get(1u);
    if (!child.IsNumber() || !parent.IsNumber() || child.As<Napi::Number>().Int32Value() < 0) {
      ThrowType(env, "options.fds", what);
    }
    out.emplace_back(child.As<Napi::Number>().Int32Value(), parent.As<Napi::Number>().Int32Value());
  }
  return out;
}

// A program nobody in this process tree is parent of: an intermediate fork
// starts a new session, spawns the program and exits at once, so that the
// program is reparented to init (or the subreaper) and survives the SIGKILL
// of the whole tree. The intermediate only calls setsid, posix_spawn (clone
// and exec, no allocation), write and _exit, which a fork child of a
// multithreaded process may. Returns { pid, sentinel: -1 }.
Napi::Value SpawnDetached(Napi::Env env, const std::string& file, const posix_spawn_file_actions_t* actions,
                          const posix_spawnattr_t* attr, char* const* argv, char* const* envp) {
  UniqueFd reportRead, reportWrite;
  CloexecPipe(env, &reportRead, &reportWrite);
  pid_t middle = fork();
  if (middle < 0) ThrowErrno(env, "fork");
  if (middle == 0) {
    int32_t report[2] = {0, -1};
    if (setsid() < 0) {
      report[0] = errno;
    } else {
      pid_t pid;
      report[0] = posix_spawn(&pid, file.c_str(), actions, attr, argv, envp);
      if (report[0] == 0) report[1] = pid;
    }
    ssize_t written = write(reportWrite.get(), report, sizeof report);
    _exit(written == static_cast<ssize_t>(sizeof report) ? 0 : 1);
  }
  reportWrite.reset();
  int status;
  while (waitpid(middle, &status, 0) < 0 && errno == EINTR) {
  }
  int32_t report[2];
  ssize_t got;
  do {
    got = read(reportRead.get(), report, sizeof report);
  } while (got < 0 && errno == EINTR);
  if (got < 0) ThrowErrno(env, "read");
  if (got != static_cast<ssize_t>(sizeof report)) ThrowErrno(env, ECHILD, "fork");
  if (report[0] != 0) ThrowErrno(env, report[0], "posix_spawn");
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, report[1]));
  result.Set("sentinel", Napi::Number::New(env, -1));
  return result;
}

// spawnProcess({ file, args, env, cwd, fds, detached }) → { pid, sentinel }.
Napi::Value SpawnProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowType(env, "options", "argument must be an object");
  Napi::Object options = info[0].As<Napi::Object>();
  std::string file = StringOption(env, options.Get("file"), "file");
  CStrings argv = StringsOption(env, options, "args"), envp = StringsOption(env, options, "env");
  Napi::Value cwdValue = options.Get("cwd");
  bool hasCwd = !cwdValue.IsNull() && !cwdValue.IsUndefined();
  std::string cwd = hasCwd ? StringOption(env, cwdValue, "cwd") : std::string();
  std::vector<std::pair<int, int>> fds = FdMapOption(env, options);
  bool detached = options.Get("detached").ToBoolean().Value();

  int maxChild = -1;
  for (const auto& m : fds) maxChild = std::max(maxChild, m.first);
  bool usePidfd = !detached && PidfdSupported();
  UniqueFd sentinelRead, sentinelWrite;
  if (!usePidfd && !detached) {
    CloexecPipe(env, &sentinelRead, &sentinelWrite);
    maxChild = std::max(maxChild + 1, 3);
    fds.emplace_back(maxChild, sentinelWrite.get());
  }
  int bound = maxChild + 1;

  posix_spawn_file_actions_t actions;
  Check(env, posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init");
  std::unique_ptr<posix_spawn_file_actions_t, int (*)(posix_spawn_file_actions_t*)> actionsGuard(
      &actions, posix_spawn_file_actions_destroy);
  // Every source is first copied above every target, so that no dup2 in the
  // child overwrites a source a later one still needs.
  std::vector<UniqueFd> copies;
  std::vector<int> targets;
  for (const auto& [child, parent] : fds) {
    copies.emplace_back(fcntl(parent, F_DUPFD_CLOEXEC, bound));
    if (copies.back().get() < 0) ThrowErrno(env, "fcntl");
    Check(env, posix_spawn_file_actions_adddup2(&actions, copies.back().get(), child),
          "posix_spawn_file_actions_adddup2");
    targets.push_back(child);
  }
#if !defined(POSIX_SPAWN_CLOEXEC_DEFAULT)
  // Inheritable descriptors below the bound that are no target (stdio, say).
  for (int fd = 0; fd < bound; ++fd) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || (flags & FD_CLOEXEC) || std::count(targets.begin(), targets.end(), fd) > 0) continue;
    Check(env, posix_spawn_file_actions_addclose(&actions, fd), "posix_spawn_file_actions_addclose");
  }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
  Check(env, posix_spawn_file_actions_addclosefrom_np(&actions, bound), "posix_spawn_file_actions_addclosefrom_np");
#endif
#endif
  if (hasCwd) {
#if (defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 29)) || defined(__APPLE__)
    Check(env, posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str()), "posix_spawn_file_actions_addchdir_np");
#else
    ThrowErrno(env, ENOSYS, "posix_spawn_file_actions_addchdir_np");
#endif
  }

  // Node ignores SIGPIPE and may block signals; the program starts clean.
  posix_spawnattr_t attr;
  Check(env, posix_spawnattr_init(&attr), "posix_spawnattr_init");
  std::unique_ptr<posix_spawnattr_t, int (*)(posix_spawnattr_t*)> attrGuard(&attr, posix_spawnattr_destroy);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
#if defined(POSIX_SPAWN_CLOEXEC_DEFAULT)
  flags |= POSIX_SPAWN_CLOEXEC_DEFAULT;
#endif
  Check(env, posix_spawnattr_setflags(&attr, flags), "posix_spawnattr_setflags");
  Check(env, posix_spawnattr_setsigmask(&attr, &none), "posix_spawnattr_setsigmask");
  Check(env, posix_spawnattr_setsigdefault(&attr, &all), "posix_spawnattr_setsigdefault");

  if (detached) return SpawnDetached(env, file, &actions, &attr, argv.second.data(), envp.second.data());
  pid_t pid;
  Check(env, posix_spawn(&pid, file.c_str(), &actions, &attr, argv.second.data(), envp.second.data()), "posix_spawn");
  int sentinel = usePidfd ? PidfdOpen(pid) : sentinelRead.release();
  if (sentinel < 0) {  // no pidfd (EMFILE, say): take the child back rather than leak it
    int e = errno, status;
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ThrowErrno(env, e, "pidfd_open");
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, pid));
  result.Set("sentinel", Napi::Number::New(env, sentinel));
  return result;
}

Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info) {
  int sig = ArgInt(info, 0, "signal");
#if defined(__linux__)
  if (prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(sig)) != 0) ThrowErrno(info.Env(), "prctl");
#else
  (void)sig;
#endif
  return info.Env().Undefined();
}

Napi::Value Pipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  UniqueFd r, w;
  CloexecPipe(env, &r, &w);
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, r.release()));
  result.Set(1u, Napi::Number::New(env, w.release()));
  return result;
}
}  // namespace

void InitSpawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnProcess", Napi::Function::New(env, SpawnProcess, "spawnProcess"));
  exports.Set("setParentDeathSignal", Napi::Function::New(env, SetParentDeathSignal, "setParentDeathSignal"));
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
}

}  // namespace mp
