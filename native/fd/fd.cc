#include "fd/fd.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>

#include "core/args.h"
#include "core/errors.h"

namespace mp {

void UniqueFd::reset(int fd) {
  // close() is not retried: the descriptor is gone whatever it returns.
  if (fd_ >= 0) (void)close(fd_);
  fd_ = fd;
}

void SetCloexec(Napi::Env env, int fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) throw ErrnoError(env, errno, "fcntl");
}

void SetNonBlocking(Napi::Env env, int fd, bool on) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) throw ErrnoError(env, errno, "fcntl");
  int wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (wanted != flags && fcntl(fd, F_SETFL, wanted) != 0) throw ErrnoError(env, errno, "fcntl");
}

void NoSigpipe(Napi::Env env, int fd) {
#if defined(SO_NOSIGPIPE)
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) != 0) throw ErrnoError(env, errno, "setsockopt");
#else
  (void)env;
  (void)fd;
#endif
}

int PollUntil(Napi::Env env, pollfd* fds, size_t count, int64_t deadlineMs) {
  for (;;) {
    int wait = deadlineMs < 0 ? -1 : static_cast<int>(std::clamp<int64_t>(deadlineMs - MonotonicMs(), 0, INT_MAX));
    int n = poll(fds, static_cast<nfds_t>(count), wait);
    if (n > 0) return n;
    if (n == 0) {
      if (deadlineMs >= 0 && MonotonicMs() >= deadlineMs) return 0;
      continue;  // woken early (rounding): the deadline is not there yet
    }
    if (errno != EINTR) throw ErrnoError(env, errno, "poll");
  }
}

int64_t DeadlineAfter(double timeoutMs) {
  if (!(timeoutMs >= 0)) return -1;
  if (timeoutMs > 9e15) return -1;
  return MonotonicMs() + static_cast<int64_t>(std::ceil(timeoutMs));
}

int PidfdOpen(pid_t pid) {
#if defined(__linux__) && defined(SYS_pidfd_open)
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));  // O_CLOEXEC is implied
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

}  // namespace mp
