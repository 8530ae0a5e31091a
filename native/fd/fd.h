// Descriptors: the one owning type, and the few flag and syscall helpers
// every module shares. Each helper checks its system calls and throws a JS
// error with errno and the call's name.
#pragma once

#include <napi.h>
#include <poll.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include <utility>

namespace mp {

// Owns a descriptor: closes it when destroyed unless released.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&&) = delete;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// FD_CLOEXEC on.
void SetCloexec(Napi::Env env, int fd);

// O_NONBLOCK on or off, for descriptors this process owns alone (listening
// sockets, connections being set up): shared ones are never changed.
void SetNonBlocking(Napi::Env env, int fd, bool on);

// No SIGPIPE for writes to this socket where the system has SO_NOSIGPIPE
// (elsewhere sends pass MSG_NOSIGNAL).
void NoSigpipe(Napi::Env env, int fd);

// poll() through EINTR until some descriptor has an event or the deadline
// (MonotonicMs(); -1: none) passes. Returns how many have events (revents
// set, POLLNVAL included: the caller decides), 0 when the deadline passed.
int PollUntil(Napi::Env env, pollfd* fds, size_t count, int64_t deadlineMs);

// The deadline `timeoutMs` from now: -1 for a negative timeout (for ever).
int64_t DeadlineAfter(double timeoutMs);

// pidfd_open(pid): a close-on-exec descriptor readable once pid has ended;
// -1 with errno set (ENOSYS where the system has none).
int PidfdOpen(pid_t pid);

}  // namespace mp
