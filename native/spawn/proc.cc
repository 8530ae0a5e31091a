#include "spawn/proc.h"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/args.h"
#include "core/errors.h"
#include "fd/fd.h"

namespace mp {

namespace {

// waitpid(pid, nohang) → null while running, else the exit code in
// Python's convention (n, or -signal).
Napi::Value WaitPid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = ArgInt(info, 0, "pid");
  bool nohang = info.Length() > 1 && info[1].ToBoolean().Value();
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid, &status, nohang ? WNOHANG : 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(env, "waitpid");
  if (r == 0) return env.Null();
  if (WIFEXITED(status)) return Napi::Number::New(env, WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return Napi::Number::New(env, -WTERMSIG(status));
  return env.Null();
}

// kill(pid, sig) → false when the process is gone (ESRCH).
Napi::Value Kill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = ArgInt(info, 0, "pid");
  int sig = ArgInt(info, 1, "signal");
  if (kill(pid, sig) == 0) return Napi::Boolean::New(env, true);
  if (errno == ESRCH) return Napi::Boolean::New(env, false);
  ThrowErrno(env, "kill");
}

// pollReadable(fd, timeoutMs | null) → whether fd became readable; blocks.
Napi::Value PollReadable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  int64_t deadline = -1;
  if (info.Length() > 1 && info[1].IsNumber()) {
    double t = info[1].As<Napi::Number>().DoubleValue();
    deadline = DeadlineAfter(t <= 0 ? 0 : t);
  }
  pollfd p{fd, POLLIN, 0};
  return Napi::Boolean::New(env, PollUntil(env, &p, 1, deadline) > 0);
}

// writeAll(fd, buffer): writes every byte, waiting when the descriptor is
// non-blocking and full (stdout shared with a parent that set O_NONBLOCK).
Napi::Value WriteAll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  if (info.Length() < 2 || !info[1].IsTypedArray()) {
    throw Napi::TypeError::New(env, "The \"buffer\" argument must be a Uint8Array");
  }
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  const uint8_t* p = buf.Data();
  size_t left = buf.ByteLength();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n >= 0) {
      p += n;
      left -= static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd pf{fd, POLLOUT, 0};
      PollUntil(env, &pf, 1, -1);
      continue;
    }
    ThrowErrno(env, "write");
  }
  return env.Undefined();
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0, "fd");
  if (close(fd) != 0 && errno != EINTR) ThrowErrno(info.Env(), "close");
  return info.Env().Undefined();
}

[[noreturn]] Napi::Value Exit(const Napi::CallbackInfo& info) {
  int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  _exit(code & 0xff);
}

Napi::Value GetPid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), getpid());
}

Napi::Value GetPpid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), getppid());
}

// pidfdOpen(pid) → a descriptor readable once pid has ended, or -1 where
// the kernel has no pidfd_open (or the process is already gone).
Napi::Value PidfdOpenJs(const Napi::CallbackInfo& info) {
  int fd = PidfdOpen(ArgInt(info, 0, "pid"));
  if (fd >= 0) return Napi::Number::New(info.Env(), fd);
  if (errno != ENOSYS && errno != ESRCH) ThrowErrno(info.Env(), "pidfd_open");
  return Napi::Number::New(info.Env(), -1);
}

}  // namespace

void InitProc(Napi::Env env, Napi::Object exports) {
  exports.Set("waitpid", Napi::Function::New(env, WaitPid, "waitpid"));
  exports.Set("kill", Napi::Function::New(env, Kill, "kill"));
  exports.Set("pollReadable", Napi::Function::New(env, PollReadable, "pollReadable"));
  exports.Set("writeAll", Napi::Function::New(env, WriteAll, "writeAll"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("exit", Napi::Function::New(env, Exit, "exit"));
  exports.Set("getpid", Napi::Function::New(env, GetPid, "getpid"));
  exports.Set("getppid", Napi::Function::New(env, GetPpid, "getppid"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpenJs, "pidfdOpen"));
}

}  // namespace mp
