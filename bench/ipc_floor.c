/*
 * The floor for bench/ipc.ts: what the OS itself costs, with no runtime in
 * the way. bench/ipc.ts compiles it at bench time into a temporary
 * directory (cc -O2) and runs it:
 *
 *     ipc_floor rt ITERATIONS REPS     small-message ping-pong, µs per round trip
 *     ipc_floor futex ITERATIONS REPS  the same through shared memory, each side
 *                                      sleeping on a futex until the other wakes it
 *     ipc_floor spin ITERATIONS REPS   the same through shared memory, each side
 *                                      spinning on the word (no system call)
 *     ipc_floor bytes SIZE REPS        SIZE bytes from a child to the parent, GB/s
 *
 * rt and bytes go over an AF_UNIX SOCK_STREAM socketpair between a parent
 * and a fork()ed child, as a duplex Pipe() of ours and of Python's does;
 * futex and spin over a MAP_SHARED page between the two, the carriers of
 * our message ring when its reader sleeps and when it spins.
 *
 * rt: the parent writes an 8-byte message (the iteration number), the child
 * reads it and writes it back, the parent reads the reply; one untimed
 * block of ITERATIONS warms up, then REPS timed blocks, each sample the
 * block's mean.
 *
 * bytes: per sample a fresh child fills a SIZE buffer (untimed), reads the
 * clock (CLOCK_MONOTONIC), writes that timestamp and then the SIZE bytes;
 * the parent reads them all into a fresh buffer (malloc, as the receivers
 * it is compared with allocate one per message) and reads the clock: the
 * sample is SIZE / (end - child's timestamp), 10^9 bytes per second. One
 * untimed sample warms up.
 *
 * Prints one JSON line: {"kind": ..., "samples": [...]}.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Whole writes and reads; 0 at end-of-file before the first byte of a read. */
static void write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    p += w;
    n -= (size_t)w;
  }
}

static int read_all(int fd, void *buf, size_t n) {
  char *p = buf;
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, p + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("read");
    }
    if (r == 0) {
      if (got == 0) return 0;
      fprintf(stderr, "end-of-file in the middle of a message\n");
      exit(1);
    }
    got += (size_t)r;
  }
  return 1;
}

static void pair(int sv[2]) {
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair");
}

static void reap(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) != pid) die("waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "child failed (status %d)\n", status);
    exit(1);
  }
}

/* ---- rt ---- */

static void echo(int fd) {
  int64_t x;
  while (read_all(fd, &x, sizeof x)) write_all(fd, &x, sizeof x);
}

static double block_us(int fd, long iterations) {
  int64_t t0 = now_ns();
  for (int64_t i = 0; i < iterations; i++) {
    int64_t x = i;
    write_all(fd, &x, sizeof x);
    if (!read_all(fd, &x, sizeof x) || x != i) {
      fprintf(stderr, "bad echo at %lld\n", (long long)i);
      exit(1);
    }
  }
  return (double)(now_ns() - t0) / 1e3 / (double)iterations;
}

static void rt(long iterations, int reps) {
  int sv[2];
  pair(sv);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(sv[0]);
    echo(sv[1]);
    _exit(0);
  }
  close(sv[1]);
  block_us(sv[0], iterations);
  printf("{\"kind\": \"rt\", \"samples\": [");
  for (int r = 0; r < reps; r++) printf("%s%.4f", r ? ", " : "", block_us(sv[0], iterations));
  printf("]}\n");
  close(sv[0]); /* the child reads end-of-file and exits */
  reap(pid);
}

/* ---- futex and spin: a ping-pong on one shared word ---- */

/* The word holds the iteration number: the parent stores 2i+1 and waits
 * for 2i+2, the child waits for 2i+1 and stores 2i+2; 0 ends it. */
static int sleeping;

static void futex_wait(int32_t *word, int32_t value) {
  while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == value) {
    if (!sleeping) continue;
    if (syscall(SYS_futex, word, FUTEX_WAIT, value, NULL, NULL, 0) != 0 && errno != EAGAIN && errno != EINTR) die("futex");
  }
}

static void futex_store(int32_t *word, int32_t value) {
  __atomic_store_n(word, value, __ATOMIC_RELEASE);
  if (sleeping && syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0) < 0) die("futex");
}

static double word_block_us(int32_t *word, int32_t *next, long iterations) {
  int64_t t0 = now_ns();
  for (long i = 0; i < iterations; i++) {
    int32_t mine = *next;
    futex_store(word, mine);
    futex_wait(word, mine);
    if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != mine + 1) {
      fprintf(stderr, "bad echo at %ld\n", i);
      exit(1);
    }
    *next = mine + 2;
  }
  return (double)(now_ns() - t0) / 1e3 / (double)iterations;
}

static void word_rt(const char *kind, long iterations, int reps) {
  int32_t *word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (word == MAP_FAILED) die("mmap");
  *word = -1;
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    for (int32_t seen = -1;;) {
      futex_wait(word, seen);
      int32_t x = __atomic_load_n(word, __ATOMIC_ACQUIRE);
      if (x == 0) _exit(0);
      seen = x + 1;
      futex_store(word, seen);
    }
  }
  int32_t next = 1;
  word_block_us(word, &next, iterations);
  printf("{\"kind\": \"%s\", \"samples\": [", kind);
  for (int r = 0; r < reps; r++) printf("%s%.4f", r ? ", " : "", word_block_us(word, &next, iterations));
  printf("]}\n");
  futex_store(word, 0);
  reap(pid);
}

/* ---- bytes ---- */

static void send_big(int fd, size_t size) {
  char *buf = malloc(size);
  if (buf == NULL) die("malloc");
  memset(buf, 7, size);
  int64_t t0 = now_ns();
  write_all(fd, &t0, sizeof t0);
  write_all(fd, buf, size);
  free(buf);
}

static double big_once(size_t size) {
  int sv[2];
  pair(sv);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(sv[0]);
    send_big(sv[1], size);
    _exit(0);
  }
  close(sv[1]);
  char *into = malloc(size);
  if (into == NULL) die("malloc");
  int64_t t0;
  if (!read_all(sv[0], &t0, sizeof t0) || !read_all(sv[0], into, size)) {
    fprintf(stderr, "short transfer\n");
    exit(1);
  }
  double gbs = (double)size / (double)(now_ns() - t0);
  if (into[0] != 7 || into[size - 1] != 7) {
    fprintf(stderr, "bad bytes\n");
    exit(1);
  }
  free(into);
  close(sv[0]);
  reap(pid);
  return gbs;
}

static void bytes(size_t size, int reps) {
  big_once(size);
  printf("{\"kind\": \"bytes\", \"samples\": [");
  for (int r = 0; r < reps; r++) printf("%s%.4f", r ? ", " : "", big_once(size));
  printf("]}\n");
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s rt|futex|spin ITERATIONS REPS | bytes SIZE REPS\n", argv[0]);
    return 2;
  }
  long n = strtol(argv[2], NULL, 10);
  int reps = atoi(argv[3]);
  if (n <= 0 || reps <= 0) {
    fprintf(stderr, "ITERATIONS or SIZE and REPS must be positive\n");
    return 2;
  }
  if (strcmp(argv[1], "rt") == 0) rt(n, reps);
  else if (strcmp(argv[1], "futex") == 0) {
    sleeping = 1;
    word_rt("futex", n, reps);
  } else if (strcmp(argv[1], "spin") == 0) word_rt("spin", n, reps);
  else if (strcmp(argv[1], "bytes") == 0) bytes((size_t)n, reps);
  else {
    fprintf(stderr, "unknown kind %s\n", argv[1]);
    return 2;
  }
  return 0;
}
