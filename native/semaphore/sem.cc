#include "semaphore/sem.h"

#include <time.h>

#include <cerrno>
#include <cstdint>

#include "core/args.h"

namespace mp {

namespace {

#if !defined(__APPLE__) && !(defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30)))
timespec AddNs(timespec t, int64_t ns) {
  int64_t total = static_cast<int64_t>(t.tv_nsec) + ns % 1000000000;
  t.tv_sec += static_cast<time_t>(ns / 1000000000 + total / 1000000000);
  t.tv_nsec = static_cast<long>(total % 1000000000);
  return t;
}
#endif

}  // namespace

int WaitUntil(sem_t* sem, int64_t deadlineNs) {
  for (;;) {
    int rc;
    if (deadlineNs < 0) {
      rc = sem_wait(sem);
    } else {
#if defined(__APPLE__)
      // macOS has no sem_timedwait: poll with a backoff capped at 20 ms.
      int64_t sleepNs = 100000;
      for (;;) {
        rc = sem_trywait(sem);
        if (rc == 0 || errno != EAGAIN) break;
        int64_t left = deadlineNs - MonotonicNs();
        if (left <= 0) {
          errno = ETIMEDOUT;
          break;
        }
        int64_t nap = sleepNs < left ? sleepNs : left;
        timespec pause = {static_cast<time_t>(nap / 1000000000), static_cast<long>(nap % 1000000000)};
        nanosleep(&pause, nullptr);
        if (sleepNs < 20000000) sleepNs *= 2;
      }
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
      timespec ts = {static_cast<time_t>(deadlineNs / 1000000000), static_cast<long>(deadlineNs % 1000000000)};
      rc = sem_clockwait(sem, CLOCK_MONOTONIC, &ts);
#else
      timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      int64_t left = deadlineNs - MonotonicNs();
      rc = sem_timedwait(sem, AddNs(now, left > 0 ? left : 0));
#endif
    }
    if (rc == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

}  // namespace mp
