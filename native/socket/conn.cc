#include "socket/conn.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#if defined(__linux__)
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/args.h"
#include "core/errors.h"
#include "fd/fd.h"
#include "fd/rights.h"

namespace mp {

namespace {

// Per call, never on the file description: a descriptor shared with other
// processes (a queue's pipe, an inherited connection) keeps its blocking
// mode for them, as Python expects.
#if defined(MSG_NOSIGNAL)
constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL;
#else
constexpr int kSendFlags = MSG_DONTWAIT;
#endif
#if defined(MSG_CMSG_CLOEXEC)
constexpr int kRecvFlags = MSG_DONTWAIT | MSG_CMSG_CLOEXEC;
#else
constexpr int kRecvFlags = MSG_DONTWAIT;
#endif
using rights::Control;
using rights::kMaxFds;

// socketPair() → [fd, fd]: a connected AF_UNIX stream pair, close-on-exec.
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
#if defined(SOCK_CLOEXEC)
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw ErrnoError(env, errno, "socketpair");
#else
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) throw ErrnoError(env, errno, "socketpair");
#endif
  UniqueFd a(fds[0]), b(fds[1]);
#if !defined(SOCK_CLOEXEC)
  SetCloexec(env, a.get());
  SetCloexec(env, b.get());
#endif
  NoSigpipe(env, a.get());
  NoSigpipe(env, b.get());
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, a.release()));
  result.Set(1u, Napi::Number::New(env, b.release()));
  return result;
}

// sendSome(fd, buffer, offset, length, fds | null) → bytes sent, or -1 if
// the socket is full now. Descriptors go with the first byte.
Napi::Value SendSome(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  size_t length;
  uint8_t* data = ArgRange(info, 1, &length);
  iovec iov{data, length};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  Control control;
  if (info.Length() > 4 && info[4].IsArray()) {
    Napi::Array fds = info[4].As<Napi::Array>();
    size_t count = fds.Length();
    if (count > kMaxFds) throw Napi::RangeError::New(env, "at most 64 descriptors go with one message");
    if (count > 0) {
      if (length == 0) throw Napi::RangeError::New(env, "descriptors need at least one byte to travel with");
      std::vector<int> sent(count);
      for (uint32_t k = 0; k < count; ++k) sent[k] = fds.Get(k).As<Napi::Number>().Int32Value();
      rights::Attach(&msg, &control, sent.data(), count);
    }
  }
  for (;;) {
    ssize_t n = sendmsg(fd, &msg, kSendFlags);
    if (n >= 0) return Napi::Number::New(env, static_cast<double>(n));
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    throw ErrnoError(env, errno, "sendmsg");
  }
}

// recvmsg with room for descriptors, without waiting, retried on EINTR:
// bytes read, 0 at end-of-file (ECONNRESET included: the peer is gone), -1
// when nothing is there now. Descriptors that came are close-on-exec and
// appended to *received; *truncated says some did not fit (MSG_CTRUNC):
// then every one that came is closed and none is appended.
ssize_t RecvWithRights(Napi::Env env, int fd, uint8_t* data, size_t length, std::vector<int>* received, bool* truncated) {
  iovec iov{data, length};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  Control control;
  ssize_t n;
  for (;;) {
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    n = recvmsg(fd, &msg, kRecvFlags);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return -1;
    if (errno == ECONNRESET) return 0;
    throw ErrnoError(env, errno, "recvmsg");
  }
  *truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
  for (int got : rights::Received(&msg)) {
    // More than fit: the message is broken, and none of it is kept.
    if (*truncated) {
      close(got);
      continue;
    }
    received->push_back(got);
#if !defined(MSG_CMSG_CLOEXEC)
    SetCloexec(env, got);
#endif
  }
  return n;
}

// recvSome(fd, buffer, offset, length, fdsOut | null) → bytes read (0 at
// end-of-file), or -1 if nothing is there now. Received descriptors are
// pushed onto fdsOut (or closed when it is null); EMSGSIZE when more came
// than fit (all of them closed).
Napi::Value RecvSome(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  size_t length;
  uint8_t* data = ArgRange(info, 1, &length);
  bool wantFds = info.Length() > 4 && info[4].IsArray();
  std::vector<int> received;
  bool truncated = false;
  ssize_t n = RecvWithRights(env, fd, data, length, &received, &truncated);
  if (n < 0) return Napi::Number::New(env, -1);
  if (truncated) throw ErrnoError(env, EMSGSIZE, "recvmsg");
  if (wantFds) {
    Napi::Array out = info[4].As<Napi::Array>();
    for (int got : received) out.Set(out.Length(), Napi::Number::New(env, got));
  } else {
    for (int got : received) close(got);
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

// peekSome(fd, n): up to n (at most 16) bytes at the head of the stream,
// left there (MSG_PEEK): a Buffer, null when nothing is there, false at
// end-of-file. A message ring's reader (lib/connection/ring.ts) tells its
// doorbells from frames with it before it reads.
Napi::Value PeekSome(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  int wanted = ArgInt(info, 1, "n");
  if (wanted < 1 || wanted > 16) throw Napi::RangeError::New(env, "The \"n\" argument must be from 1 to 16");
  uint8_t bytes[16];
  ssize_t r;
  do r = recv(fd, bytes, static_cast<size_t>(wanted), MSG_PEEK | MSG_DONTWAIT);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    if (errno == ECONNRESET) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, errno, "recv");
  }
  if (r == 0) return Napi::Boolean::New(env, false);
  return Napi::Buffer<uint8_t>::Copy(env, bytes, static_cast<size_t>(r));
}

// recvFrame(fd, fdsOut, maxLength) reads, without waiting, as much of the
// next frame (4-byte big-endian length, then the payload) as is there, in
// one call from JavaScript:
//   null          nothing is there;
//   false         end-of-file before a frame;
//   Buffer        the whole payload;
//   { head, headGot, data, dataGot, fds }  a frame begun but not complete
//                 (data null when the payload is not allocated yet: a long
//                 or bad length, or one above maxLength, for lib/ to judge).
// Descriptors come only with a frame's first byte: later reads skip the
// control buffer.
Napi::Value RecvFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  Napi::Array fdsOut = info[1].As<Napi::Array>();
  double maxLength = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : -1;
  uint8_t head[4];
  std::vector<int> received;
  bool truncated = false;
  ssize_t n = RecvWithRights(env, fd, head, 4, &received, &truncated);
  if (n < 0) return env.Null();
  if (n == 0) return Napi::Boolean::New(env, false);
  if (truncated) throw ErrnoError(env, EMSGSIZE, "recvmsg");
  for (int got : received) fdsOut.Set(fdsOut.Length(), Napi::Number::New(env, got));
  // The rest without a control buffer; -1 when nothing more is there now.
  auto more = [&](uint8_t* to, size_t want) -> ssize_t {
    for (;;) {
      ssize_t r = recv(fd, to, want, MSG_DONTWAIT);
      if (r > 0) return r;
      if (r == 0) return 0;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return -1;
      if (errno == ECONNRESET) return 0;
      throw ErrnoError(env, errno, "recv");
    }
  };
  size_t headGot = static_cast<size_t>(n);
  while (headGot < 4) {
    ssize_t r = more(head + headGot, 4 - headGot);
    if (r <= 0) break;  // lib/ finishes it (and reports end-of-file mid-frame)
    headGot += static_cast<size_t>(r);
  }
  auto partial = [&](Napi::Value data, size_t dataGot) {
    Napi::Object p = Napi::Object::New(env);
    p.Set("head", Napi::Buffer<uint8_t>::Copy(env, head, 4));
    p.Set("headGot", Napi::Number::New(env, static_cast<double>(headGot)));
    p.Set("data", data);
    p.Set("dataGot", Napi::Number::New(env, static_cast<double>(dataGot)));
    p.Set("fds", fdsOut);
    return p;
  };
  if (headGot < 4) return partial(env.Null(), 0);
  int32_t length = static_cast<int32_t>((uint32_t{head[0]} << 24) | (uint32_t{head[1]} << 16) |
                                        (uint32_t{head[2]} << 8) | uint32_t{head[3]});
  if (length < 0 || (maxLength >= 0 && length > maxLength)) return partial(env.Null(), 0);
  Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(length));
  size_t dataGot = 0;
  while (dataGot < static_cast<size_t>(length)) {
    ssize_t r = more(data.Data() + dataGot, static_cast<size_t>(length) - dataGot);
    if (r <= 0) return partial(data, dataGot);
    dataGot += static_cast<size_t>(r);
  }
  return data;
}

// pollFd(fd, writable, timeoutMs | null) → ready; blocks this thread.
// Readable includes end-of-file and errors (a read will say which).
Napi::Value PollFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  bool writable = info[1].ToBoolean().Value();
  double timeout = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : -1;
  pollfd p{fd, static_cast<short>(writable ? POLLOUT : POLLIN), 0};
  if (PollUntil(env, &p, 1, DeadlineAfter(timeout)) == 0) return Napi::Boolean::New(env, false);
  if (p.revents & POLLNVAL) throw ErrnoError(env, EBADF, "poll");
  return Napi::Boolean::New(env, true);
}

// ---------------------------------------------------------------------------
// TCP for Listener and Client (numeric addresses; lib/ resolves names).

bool ParseAddress(const std::string& host, int port, sockaddr_storage* out, socklen_t* len) {
  std::memset(out, 0, sizeof *out);
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

UniqueFd TcpSocket(Napi::Env env, int family) {
#if defined(SOCK_CLOEXEC)
  UniqueFd s(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
#else
  UniqueFd s(socket(family, SOCK_STREAM, 0));
#endif
  if (s.get() < 0) throw ErrnoError(env, errno, "socket");
#if !defined(SOCK_CLOEXEC)
  SetCloexec(env, s.get());
#endif
  NoSigpipe(env, s.get());
  return s;
}

void SetIntOption(Napi::Env env, int fd, int level, int name) {
  int one = 1;
  if (setsockopt(fd, level, name, &one, sizeof one) != 0) throw ErrnoError(env, errno, "setsockopt");
}

void ArgHostPort(const Napi::CallbackInfo& info, sockaddr_storage* addr, socklen_t* len) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "The \"host\" argument must be a numeric address string");
  int port = ArgInt(info, 1, "port");
  if (port < 0 || port > 65535) throw Napi::RangeError::New(env, "The \"port\" argument must be from 0 to 65535");
  if (!ParseAddress(info[0].As<Napi::String>().Utf8Value(), port, addr, len)) {
    throw Napi::TypeError::New(env, "The \"host\" argument must be a numeric IPv4 or IPv6 address");
  }
}

// tcpListen(host, port, backlog) → { fd, port }; the socket is non-blocking
// (it is ours alone) so that accept() never waits.
Napi::Value TcpListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sockaddr_storage addr;
  socklen_t len;
  ArgHostPort(info, &addr, &len);
  int backlog = ArgInt(info, 2, "backlog");
  UniqueFd s = TcpSocket(env, addr.ss_family);
  SetIntOption(env, s.get(), SOL_SOCKET, SO_REUSEADDR);
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) throw ErrnoError(env, errno, "bind");
  if (listen(s.get(), backlog) != 0) throw ErrnoError(env, errno, "listen");
  SetNonBlocking(env, s.get(), true);
  sockaddr_storage bound;
  socklen_t boundLen = sizeof bound;
  if (getsockname(s.get(), reinterpret_cast<sockaddr*>(&bound), &boundLen) != 0) throw ErrnoError(env, errno, "getsockname");
  int port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                              : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, s.release()));
  result.Set("port", Napi::Number::New(env, port));
  return result;
}

// tcpConnectStart(host, port) → fd, connecting without blocking; the
// caller waits until it is writable, then calls connectResult(fd).
Napi::Value TcpConnectStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sockaddr_storage addr;
  socklen_t len;
  ArgHostPort(info, &addr, &len);
  UniqueFd s = TcpSocket(env, addr.ss_family);
  SetNonBlocking(env, s.get(), true);
  int rc;
  do {
    rc = connect(s.get(), reinterpret_cast<sockaddr*>(&addr), len);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EINPROGRESS) throw ErrnoError(env, errno, "connect");
  SetNonBlocking(env, s.get(), false);  // blocking again: the connection's mode, as Python's
  SetIntOption(env, s.get(), IPPROTO_TCP, TCP_NODELAY);
  return Napi::Number::New(env, s.release());
}

// connectResult(fd): throws the connect() error, if any (SO_ERROR).
Napi::Value ConnectResult(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) throw ErrnoError(env, errno, "getsockopt");
  if (err != 0) throw ErrnoError(env, err, "connect");
  return env.Undefined();
}

// acceptNow(fd) → a connection, or -1 if none is waiting (the listening
// socket is non-blocking).
Napi::Value AcceptNow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  for (;;) {
#if defined(__linux__)
    UniqueFd c(accept4(fd, nullptr, nullptr, SOCK_CLOEXEC));
#else
    UniqueFd c(accept(fd, nullptr, nullptr));
#endif
    if (c.get() >= 0) {
#if !defined(__linux__)
      SetCloexec(env, c.get());
#endif
      NoSigpipe(env, c.get());
      // An accepted socket may inherit O_NONBLOCK on some systems; it is ours alone yet.
      SetNonBlocking(env, c.get(), false);
      sockaddr_storage addr;
      socklen_t len = sizeof addr;
      if (getsockname(c.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) throw ErrnoError(env, errno, "getsockname");
      if (addr.ss_family != AF_UNIX) SetIntOption(env, c.get(), IPPROTO_TCP, TCP_NODELAY);
      return Napi::Number::New(env, c.release());
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    throw ErrnoError(env, errno, "accept");
  }
}

// setNonBlocking(fd): for listening sockets this package owns alone.
Napi::Value SetNonBlockingJs(const Napi::CallbackInfo& info) {
  SetNonBlocking(info.Env(), ArgInt(info, 0, "fd"), true);
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------
// IoWatcher(fd, callback(error, readable, writable)): one libuv poll per
// descriptor, whose interest (readable, writable, both) changes with
// setEvents(); it keeps the loop alive only while it has any.
//
// uv_poll_init sets O_NONBLOCK on the open file description it is given,
// and the descriptors watched here are shared with other processes (a
// queue's socket, a connection a Python or C reader also holds): their
// blocking reads would get EAGAIN. Our own reads and writes never need it
// (MSG_DONTWAIT), so on Linux the handle is initialized on a placeholder
// descriptor of its own and then pointed at the real one (io_watcher.fd,
// a public field: libuv registers it with epoll only when the poll
// starts). The check uv_poll_init makes (can epoll watch it? libuv aborts
// later if not) is made here first. A private epoll instance per watcher
// would do the same without touching libuv's handle, but its nested
// wake-up cost a third of a round trip. Elsewhere the flags are put back
// right after uv_poll_init.

class IoWatcher;
// Every live watcher, so that a fork child can let go of the parent's.
std::unordered_set<IoWatcher*> g_watchers;

#if defined(__linux__)
// Whether libuv's epoll can watch `fd` (uv__io_check_fd's test).
int CheckPollable(uv_loop_t* loop, int fd) {
  int backend = uv_backend_fd(loop);
  epoll_event ev{};
  ev.events = EPOLLIN;
  if (epoll_ctl(backend, EPOLL_CTL_ADD, fd, &ev) != 0) return errno == EEXIST ? 0 : errno;
  if (epoll_ctl(backend, EPOLL_CTL_DEL, fd, &ev) != 0) return errno;
  return 0;
}

// uv_poll_init for `fd` without touching its file status flags.
int PollInitKeepingFlags(uv_loop_t* loop, uv_poll_t* poll, int fd, const char** call) {
  *call = "epoll_ctl";
  int err = CheckPollable(loop, fd);
  if (err != 0) return err;
  *call = "eventfd";
  UniqueFd placeholder(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (placeholder.get() < 0) return errno;
  *call = "uv_poll_init";
  err = uv_poll_init(loop, poll, placeholder.get());
  if (err != 0) return -err;
  poll->io_watcher.fd = fd;
  return 0;
}
#endif

class IoWatcher : public Napi::ObjectWrap<IoWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "IoWatcher",
                       {InstanceMethod<&IoWatcher::SetEvents>("setEvents"),
                        InstanceMethod<&IoWatcher::SetKeepAlive>("setKeepAlive"),
                        InstanceMethod<&IoWatcher::Close>("close")});
  }

  explicit IoWatcher(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<IoWatcher>(info), async_(info.Env(), "multiprocessing:io") {
    Napi::Env env = info.Env();
    int fd = ArgInt(info, 0, "fd");
    if (info.Length() < 2 || !info[1].IsFunction()) {
      throw Napi::TypeError::New(env, "The \"callback\" argument must be a function");
    }
    uv_loop_t* loop;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "napi_get_uv_event_loop failed");
    auto* poll = new uv_poll_t;
#if defined(__linux__)
    const char* call;
    int err = PollInitKeepingFlags(loop, poll, fd, &call);
    if (err != 0) {
      delete poll;
      throw ErrnoError(env, err, call);
    }
#else
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) {
      delete poll;
      throw ErrnoError(env, errno, "fcntl");
    }
    int err = uv_poll_init(loop, poll, fd);
    if (err != 0) {
      delete poll;
      throw ErrnoError(env, -err, "uv_poll_init");
    }
#endif
    poll_ = poll;
    poll_->data = this;
#if !defined(__linux__)
    if ((flags & O_NONBLOCK) == 0 && fcntl(fd, F_SETFL, flags) != 0) {
      int saved = errno;
      CloseHandle();
      throw ErrnoError(env, saved, "fcntl");
    }
#endif
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    g_watchers.insert(this);
  }

  ~IoWatcher() override {
    g_watchers.erase(this);
    CloseHandle();
  }

  // In a fork child: the parent's watchers are not this process's. Their
  // libuv handles were detached from the child's loop (AdoptLoopInChild);
  // closing one could unregister a descriptor the child watches anew under
  // the same number, so the handle is left as it is (a few bytes).
  void OrphanInChild() {
    if (poll_ != nullptr) {
      poll_->data = nullptr;
      poll_ = nullptr;
    }
    if (events_ != 0) Unref();
    events_ = 0;
    callback_.Reset();
  }

 private:
  static void OnEvent(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<IoWatcher*>(handle->data);
    if (self == nullptr) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    Napi::Value error = status < 0 ? Napi::Value(ErrnoError(env, -status, "poll").Value()) : env.Null();
    bool readable = status < 0 || (events & (UV_READABLE | UV_DISCONNECT)) != 0;
    bool writable = status < 0 || (events & UV_WRITABLE) != 0;
    try {
      self->callback_.MakeCallback(env.Global(),
                                   {error, Napi::Boolean::New(env, readable), Napi::Boolean::New(env, writable)},
                                   self->async_);
    } catch (const Napi::Error& thrown) {
      // No JavaScript frame is below a libuv callback: report it as Node
      // reports any uncaught error (uncaughtException, or exit).
      napi_fatal_exception(env, thrown.Value());
    }
  }

  // setEvents(readable, writable)
  Napi::Value SetEvents(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (poll_ == nullptr) return env.Undefined();
    int events = (info[0].ToBoolean().Value() ? UV_READABLE | UV_DISCONNECT : 0) |
                 (info[1].ToBoolean().Value() ? UV_WRITABLE : 0);
    if (events == events_) return env.Undefined();
    int err = events == 0 ? uv_poll_stop(poll_) : uv_poll_start(poll_, events, OnEvent);
    if (err != 0) throw ErrnoError(env, -err, "uv_poll_start");
    if (events != 0 && events_ == 0) Ref();  // the JS object lives while the poll runs
    if (events == 0 && events_ != 0) Unref();
    events_ = events;
    return env.Undefined();
  }

  // setKeepAlive(keep): whether the armed poll keeps the loop alive (uv_ref);
  // no system call, unlike changing the events.
  Napi::Value SetKeepAlive(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) {
      if (info[0].ToBoolean().Value()) {
        uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
      } else {
        uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
      }
    }
    return info.Env().Undefined();
  }

  void CloseHandle() {
    if (poll_ == nullptr) return;
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (events_ != 0) Unref();
    events_ = 0;
    CloseHandle();
    // The callback closes over the JS object that owns this watcher: held
    // by a persistent reference, the pair could never be collected.
    callback_.Reset();
    return info.Env().Undefined();
  }

  uv_poll_t* poll_ = nullptr;
  int events_ = 0;
  Napi::FunctionReference callback_;
  Napi::AsyncContext async_;
};

}  // namespace

void OrphanIoWatchersInChild() {
  std::unordered_set<IoWatcher*> inherited;
  inherited.swap(g_watchers);
  for (IoWatcher* watcher : inherited) watcher->OrphanInChild();
}

void InitConn(Napi::Env env, Napi::Object exports) {
  exports.Set("socketPair", Napi::Function::New(env, SocketPair, "socketPair"));
  exports.Set("sendSome", Napi::Function::New(env, SendSome, "sendSome"));
  exports.Set("recvSome", Napi::Function::New(env, RecvSome, "recvSome"));
  exports.Set("peekSome", Napi::Function::New(env, PeekSome, "peekSome"));
  exports.Set("recvFrame", Napi::Function::New(env, RecvFrame, "recvFrame"));
  exports.Set("pollFd", Napi::Function::New(env, PollFd, "pollFd"));
  exports.Set("tcpListen", Napi::Function::New(env, TcpListen, "tcpListen"));
  exports.Set("tcpConnectStart", Napi::Function::New(env, TcpConnectStart, "tcpConnectStart"));
  exports.Set("connectResult", Napi::Function::New(env, ConnectResult, "connectResult"));
  exports.Set("acceptNow", Napi::Function::New(env, AcceptNow, "acceptNow"));
  exports.Set("setNonBlocking", Napi::Function::New(env, SetNonBlockingJs, "setNonBlocking"));
  exports.Set("IoWatcher", IoWatcher::Define(env));
}

}  // namespace mp
