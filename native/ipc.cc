#include "ipc.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <memory>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "args.h"
#include "errors.h"
#include "fd.h"
#include "rights.h"

namespace mp {

namespace {

using rights::kMaxFds;
constexpr size_t kMaxLength = INT32_MAX;
#if defined(MSG_NOSIGNAL) && !defined(__APPLE__)
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;  // SO_NOSIGPIPE is set on our sockets instead
#endif
#if defined(MSG_CMSG_CLOEXEC)
constexpr int kRecvFlags = MSG_CMSG_CLOEXEC;
#else
constexpr int kRecvFlags = 0;  // FD_CLOEXEC is set after recvmsg
#endif

void WaitFor(Napi::Env env, int fd, short events) {
  pollfd p{fd, events, 0};
  PollUntil(env, &p, 1, -1);
}

// Calls call() until it succeeds, through EINTR, and through EAGAIN (a
// non-blocking fd) by waiting for `events`.
template <typename Call>
auto Retry(Napi::Env env, int fd, short events, const char* name, Call call) {
  for (;;) {
    auto r = call();
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) ThrowErrno(env, name);
    WaitFor(env, fd, events);
  }
}

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

// A Unix stream socket and the address in argument 0; a path starting with
// a NUL byte names Linux's abstract namespace.
UniqueFd UnixSocket(const Napi::CallbackInfo& info, sockaddr_un* addr, socklen_t* len) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "path", "argument must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  bool abstract = !path.empty() && path[0] == '\0';
  if (!abstract && path.find('\0') != std::string::npos) ThrowType(env, "path", "argument must not contain null bytes");
  size_t limit = sizeof addr->sun_path - (abstract ? 0 : 1);
  if (path.size() > limit) {
    ThrowRange(env, "path", "be at most " + std::to_string(limit) + " bytes long, got " + std::to_string(path.size()));
  }
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path, path.data(), path.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
#if defined(SOCK_CLOEXEC)
  UniqueFd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) ThrowErrno(env, "socket");
#else
  UniqueFd s(socket(AF_UNIX, SOCK_STREAM, 0));
  if (s.get() < 0) ThrowErrno(env, "socket");
  SetCloexec(env, s.get());
#endif
  NoSigpipe(env, s.get());
  return s;
}

Napi::Value UnixListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sockaddr_un addr;
  socklen_t len;
  UniqueFd s = UnixSocket(info, &addr, &len);
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) ThrowErrno(env, "bind");
  if (listen(s.get(), ArgInt(info, 1, "backlog")) != 0) ThrowErrno(env, "listen");
  return Napi::Number::New(env, s.release());
}

Napi::Value UnixConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sockaddr_un addr;
  socklen_t len;
  UniqueFd s = UnixSocket(info, &addr, &len);
  int r;
  do {
    r = connect(s.get(), reinterpret_cast<sockaddr*>(&addr), len);
  } while (r != 0 && errno == EINTR);
  // After EINTR Linux restarts a Unix socket's connect (EISCONN if it had
  // completed); BSDs carry on in the background (EALREADY).
  if (r != 0 && errno != EISCONN) {
    if (errno != EALREADY && errno != EINPROGRESS) ThrowErrno(env, "connect");
    WaitFor(env, s.get(), POLLOUT);
    int err = 0;
    socklen_t errLen = sizeof err;
    if (getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &errLen) != 0) ThrowErrno(env, "getsockopt");
    if (err != 0) ThrowErrno(env, err, "connect");
  }
  return Napi::Number::New(env, s.release());
}

using rights::Control;

// sendMessage(fd, data, fds): all of data; the fds go with its first part.
Napi::Value SendMessage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  if (info.Length() < 2 || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(env, "data", "argument must be a Uint8Array");
  }
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  std::vector<int> fds = ArgFds(info, 2, "fds", kMaxFds);
  size_t length = data.ByteLength(), sent = 0;
  // A stream socket drops descriptors sent with no bytes.
  if (length == 0 && !fds.empty()) ThrowRange(env, "data", "not be empty when \"fds\" is not");
  Control control;
  while (sent < length) {
    iovec iov{data.Data() + sent, length - sent};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (sent == 0 && !fds.empty()) rights::Attach(&msg, &control, fds.data(), fds.size());
    sent += static_cast<size_t>(Retry(env, fd, POLLOUT, "sendmsg", [&] { return sendmsg(fd, &msg, kSendFlags); }));
  }
  return env.Undefined();
}

// recvMessage(fd, maxBytes, maxFds) → { data, fds } of one recvmsg.
Napi::Value RecvMessage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  size_t maxBytes = ArgLength(info, 1, "maxBytes", 1, kMaxLength);
  size_t maxFds = ArgLength(info, 2, "maxFds", 0, kMaxFds);
  std::unique_ptr<uint8_t[]> buffer(new uint8_t[maxBytes]);
  Control control;
  iovec iov{buffer.get(), maxBytes};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n = Retry(env, fd, POLLIN, "recvmsg", [&] {
    msg.msg_control = maxFds > 0 ? control.bytes : nullptr;
    msg.msg_controllen = maxFds > 0 ? CMSG_SPACE(sizeof(int) * maxFds) : 0;
    return recvmsg(fd, &msg, kRecvFlags);
  });
  std::vector<UniqueFd> received;
  for (int got : rights::Received(&msg)) received.emplace_back(got);
  // CMSG_SPACE rounds up, so one more than maxFds may fit: refused too.
  if ((msg.msg_flags & MSG_CTRUNC) || received.size() > maxFds) ThrowErrno(env, EMSGSIZE, "recvmsg");
#if !defined(MSG_CMSG_CLOEXEC)
  for (const UniqueFd& f : received) SetCloexec(env, f.get());
#endif
  Napi::Object result = Napi::Object::New(env);
  result.Set("data", Napi::Buffer<uint8_t>::Copy(env, buffer.get(), static_cast<size_t>(n)));
  Napi::Array fds = Napi::Array::New(env, received.size());
  for (uint32_t i = 0; i < received.size(); ++i) fds.Set(i, Napi::Number::New(env, received[i].get()));
  result.Set("fds", fds);
  for (UniqueFd& f : received) f.release();
  return result;
}

// readExact(fd, length) → length bytes, fewer only at end-of-file.
Napi::Value ReadExact(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  size_t length = ArgLength(info, 1, "length", 0, kMaxLength), got = 0;
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, length);
  while (got < length) {
    ssize_t n = Retry(env, fd, POLLIN, "read", [&] { return read(fd, out.Data() + got, length - got); });
    if (n == 0) return Napi::Buffer<uint8_t>::Copy(env, out.Data(), got);
    got += static_cast<size_t>(n);
  }
  return out;
}

Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  double pid = -1, uid, gid;
#if defined(__linux__)
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) ThrowErrno(env, "getsockopt");
  pid = cred.pid, uid = cred.uid, gid = cred.gid;
#else
  uid_t u;
  gid_t g;
  if (getpeereid(fd, &u, &g) != 0) ThrowErrno(env, "getpeereid");
  uid = u, gid = g;
#if defined(LOCAL_PEERPID)
  pid_t p;
  socklen_t len = sizeof p;
  if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &p, &len) != 0) ThrowErrno(env, "getsockopt");
  pid = p;
#endif
#endif
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, pid));
  result.Set("uid", Napi::Number::New(env, uid));
  result.Set("gid", Napi::Number::New(env, gid));
  return result;
}

// pollFds(fds, timeoutMs | null) → those readable or hung up; [] on timeout.
Napi::Value PollFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<pollfd> polled;
  for (int fd : ArgFds(info, 0, "fds", SIZE_MAX)) polled.push_back(pollfd{fd, POLLIN, 0});
  int64_t deadline = -1;
  if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) {
    double t = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : NAN;
    if (std::isnan(t)) ThrowType(env, "timeoutMs", "argument must be a number or null");
    deadline = DeadlineAfter(t <= 0 ? 0 : t);
  }
  PollUntil(env, polled.data(), polled.size(), deadline);
  Napi::Array ready = Napi::Array::New(env);
  uint32_t count = 0;
  for (const pollfd& p : polled) {
    if (p.revents & POLLNVAL) ThrowErrno(env, EBADF, "poll");
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) ready.Set(count++, Napi::Number::New(env, p.fd));
  }
  return ready;
}

Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = fcntl(ArgInt(info, 0, "fd"), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(info.Env(), "fcntl");
  return Napi::Number::New(info.Env(), fd);
}

// (fd, boolean): clears `bit` of the F_GETFD/F_GETFL word when true, else sets it.
Napi::Value SetFlag(const Napi::CallbackInfo& info, const char* name, int get, int set, int bit) {
  int fd = ArgInt(info, 0, "fd");
  if (info.Length() < 2 || !info[1].IsBoolean()) ThrowType(info.Env(), name, "argument must be a boolean");
  int flags = fcntl(fd, get);
  if (flags < 0) ThrowErrno(info.Env(), "fcntl");
  int wanted = info[1].As<Napi::Boolean>().Value() ? flags & ~bit : flags | bit;
  if (wanted != flags && fcntl(fd, set, wanted) != 0) ThrowErrno(info.Env(), "fcntl");
  return info.Env().Undefined();
}

Napi::Value SetInheritable(const Napi::CallbackInfo& info) {
  return SetFlag(info, "inheritable", F_GETFD, F_SETFD, FD_CLOEXEC);
}

Napi::Value GetUid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), getuid());
}

}  // namespace

void InitIpc(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnProcess", Napi::Function::New(env, SpawnProcess, "spawnProcess"));
  exports.Set("setParentDeathSignal", Napi::Function::New(env, SetParentDeathSignal, "setParentDeathSignal"));
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("unixListen", Napi::Function::New(env, UnixListen, "unixListen"));
  exports.Set("unixConnect", Napi::Function::New(env, UnixConnect, "unixConnect"));
  exports.Set("sendMessage", Napi::Function::New(env, SendMessage, "sendMessage"));
  exports.Set("recvMessage", Napi::Function::New(env, RecvMessage, "recvMessage"));
  exports.Set("readExact", Napi::Function::New(env, ReadExact, "readExact"));
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
  exports.Set("pollFds", Napi::Function::New(env, PollFds, "pollFds"));
  exports.Set("dup", Napi::Function::New(env, Dup, "dup"));
  exports.Set("setInheritable", Napi::Function::New(env, SetInheritable, "setInheritable"));
  exports.Set("getuid", Napi::Function::New(env, GetUid, "getuid"));
}

}  // namespace mp
