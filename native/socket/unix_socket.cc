#include "socket/unix_socket.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

#include "core/args.h"
#include "core/errors.h"
#include "fd/fd.h"
#include "fd/rights.h"

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

void InitUnixSocket(Napi::Env env, Napi::Object exports) {
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
