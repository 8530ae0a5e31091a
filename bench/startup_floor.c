/*
 * The physical floor for bench/startup.ts: what starting and joining a
 * child costs the OS itself, with no runtime in the way. bench/startup.ts
 * compiles it at bench time (cc -O2) into a temporary directory and runs
 *
 *     startup_floor RUNS HEAP_MB
 *
 * It first allocates and touches HEAP_MB MiB (so the page tables fork()
 * copies and exit tears down are those of a parent that size), then times
 * RUNS rounds of fork(); the child _exit(0)s at once; the parent waitpid()s.
 * One untimed round warms up. Prints one JSON line: {"samplesMs": [...]}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
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
  if (argc != 3) {
    fprintf(stderr, "usage: startup_floor RUNS HEAP_MB\n");
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
  if (fork_and_join() != 0) return 1;
  printf("{\"samplesMs\": [");
  for (int i = 0; i < runs; i++) {
    double t0 = now_ms();
    if (fork_and_join() != 0) return 1;
    printf("%s%.4f", i == 0 ? "" : ", ", now_ms() - t0);
  }
  printf("]}\n");
  free(ballast);
  return 0;
}
