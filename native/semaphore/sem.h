// One opened POSIX named semaphore, shared by its JavaScript handle and any
// waiter thread, and the deadline wait both block in.
#pragma once

#include <semaphore.h>

#include <cstdint>

namespace mp {

// One opened named semaphore. Shared by the JavaScript handle and any
// waiter thread blocked on it, so that a handle collected while a waiter
// still sleeps does not unmap the semaphore under it.
struct Sem {
  sem_t* sem;
  explicit Sem(sem_t* s) : sem(s) {}
  ~Sem() { sem_close(sem); }
  Sem(const Sem&) = delete;
  Sem& operator=(const Sem&) = delete;
};

// Waits until the semaphore is acquired (0), the monotonic deadline passes
// (ETIMEDOUT) or it fails (errno). deadlineNs < 0 waits forever. EINTR is
// retried: the JavaScript thread cannot run signal handlers while it blocks
// here anyway, and libuv's handlers only write to a pipe.
int WaitUntil(sem_t* sem, int64_t deadlineNs);

}  // namespace mp
