/*
 * The physical floor for bench/startup.ts: what starting and joining a
 * child costs the OS itself, with no runtime in the way. bench/startup.ts
 * compiles it at bench time (cc -O2) into a temporary directory and runs
 *
 *     startup_floor RUNS HEAP_MB [WARMUP]
 *
 * It first allocates and touches HEAP_MB MiB (so the page tables fork()
 * copies and exit tears down are those of a parent that size), then times
 * RUNS rounds of fork(); the child _exit(0)s at once; the parent waitpid()s.
 * WARMUP untimed rounds (default 1) go first. Prints one JSON line:
 * {"samplesMs": [...], "userS": u, "systemS": s}, the CPU of this process
 * and its children over the timed rounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* User and system CPU seconds of this process and its reaped children. */
static int cpu_seconds(double out[2]) {
  struct rusage self, children;
  if (getrusage(RUSAGE_SELF, &self) != 0 || getrusage(RUSAGE_CHILDREN, &children) != 0) {
    perror("getrusage");
    return -1;
  }
  out[0] = (double)(self.ru_utime.tv_sec + children.ru_utime.tv_sec) + (double)(self.ru_utime.tv_usec + children.ru_utime.tv_usec) / 1e6;
  out[1] = (double)(self.ru_stime.tv_sec + children.ru_stime.tv_sec) + (double)(self.ru_stime.tv_usec + children.ru_stime.tv_usec) / 1e6;
  return 0;
}

static int fork_and_join(void) {
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return -1;
  }
  if (pid == 0) _exit(0);
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    perror("waitpid");
    return -1;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: startup_floor RUNS HEAP_MB [WARMUP]\n");
    return 2;
  }
  int runs = atoi(argv[1]);
  size_t heap = (size_t)atoi(argv[2]) << 20;
  char* ballast = NULL;
  if (heap > 0) {
    ballast = malloc(heap);
    if (ballast == NULL) {
      perror("malloc");
      return 1;
    }
    memset(ballast, 1, heap);
  }
  int warmup = argc == 4 ? atoi(argv[3]) : 1;
  for (int i = 0; i < warmup; i++) {
    if (fork_and_join() != 0) return 1;
  }
  double cpu0[2], cpu1[2];
  if (cpu_seconds(cpu0) != 0) return 1;
  printf("{\"samplesMs\": [");
  for (int i = 0; i < runs; i++) {
    double t0 = now_ms();
    if (fork_and_join() != 0) return 1;
    printf("%s%.4f", i == 0 ? "" : ", ", now_ms() - t0);
  }
  if (cpu_seconds(cpu1) != 0) return 1;
  printf("], \"userS\": %.6f, \"systemS\": %.6f}\n", cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]);
  free(ballast);
  return 0;
}
