/*
 * The floor for bench/cluster.ts: what a task's round trip through Redis
 * costs with nothing but Redis in the way (no BullMQ, no Lua scripts, no
 * job hashes, no event stream, no serialization, no task run). bench/cluster.ts
 * compiles it at bench time into a temporary directory (cc -O2) and runs it
 * against the suite's redis-server:
 *
 *     cluster_floor PORT rt ITERATIONS REPS REQ RESP
 *         one request at a time, µs per round trip
 *     cluster_floor PORT map CHUNKS MAPS REPS REQ RESP
 *         a map of CHUNKS requests at once, ms per map
 *
 * Plain sockets, RESP written by hand (no hiredis), TCP_NODELAY as ioredis
 * sets it. Every process has its own connection to the server on 127.0.0.1.
 * Two consumer processes (fork()ed), as the suite has two worker programs,
 * each loop: `BLPOP req 0`, then `RPUSH resp <RESP bytes>`. The producer:
 *
 *   rt:  `RPUSH req <REQ bytes>`, then `BLPOP resp 0`: one round trip; one
 *        untimed block of ITERATIONS warms up, then REPS timed blocks, each
 *        sample the block's mean in µs.
 *   map: the CHUNKS `RPUSH req <REQ bytes>` written at once (pipelined, as
 *        BullMQ's addBulk sends its jobs in one MULTI), their replies read,
 *        then CHUNKS `BLPOP resp 0`, one after the other: one map. One untimed
 *        block of MAPS maps warms up, then REPS timed blocks of MAPS maps,
 *        each sample the block's mean in ms.
 *
 * REQ and RESP are the sizes bench/cluster.ts measures of the same task's
 * job data and result as JSON (what BullMQ stores), so the same bytes cross
 * the same loopback sockets through the same server: the floor of moving a
 * task to a worker and its result back, which any Redis queue pays at least.
 * At the end the producer pushes one "Q" per consumer, which ends it.
 *
 * Prints one JSON line: {"kind": ..., "samples": [...]}.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONSUMERS 2

struct conn {
  int fd;
  char *buf;
  size_t len, pos, cap;
};

static void die(const char *what) {
  perror(what);
  exit(1);
}

static struct conn *connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct conn *c = calloc(1, sizeof *c);
  c->fd = fd;
  c->cap = 1 << 16;
  c->buf = malloc(c->cap);
  return c;
}

static void write_all(int fd, const char *data, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    data += w;
    n -= (size_t)w;
  }
}

/* At least `need` unread bytes in the buffer. */
static void fill(struct conn *c, size_t need) {
  if (c->len - c->pos >= need) return;
  if (c->pos > 0) {
    memmove(c->buf, c->buf + c->pos, c->len - c->pos);
    c->len -= c->pos;
    c->pos = 0;
  }
  if (need > c->cap) {
    while (c->cap < need) c->cap *= 2;
    c->buf = realloc(c->buf, c->cap);
  }
  while (c->len < need) {
    ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("read");
    }
    if (r == 0) {
      fprintf(stderr, "redis closed the connection\n");
      exit(1);
    }
    c->len += (size_t)r;
  }
}

/* One line of a reply, without its \r\n; valid until the next read. */
static char *read_line(struct conn *c) {
  for (size_t scanned = 0;; ) {
    char *start = c->buf + c->pos;
    char *end = memmem(start + scanned, c->len - c->pos - scanned, "\r\n", 2);
    if (end != NULL) {
      *end = '\0';
      c->pos = (size_t)(end - c->buf) + 2;
      return start;
    }
    scanned = c->len - c->pos > 0 ? c->len - c->pos - 1 : 0;
    fill(c, c->len - c->pos + 1);
  }
}

/* Reads one reply whole; returns the first byte of its last bulk string ('\0' if none). */
static char read_reply(struct conn *c) {
  char *line = read_line(c);
  char type = line[0];
  long n = strtol(line + 1, NULL, 10);
  if (type == '-') {
    fprintf(stderr, "redis error: %s\n", line + 1);
    exit(1);
  }
  if (type == '$') {
    if (n < 0) return '\0';
    fill(c, (size_t)n + 2);
    char first = n > 0 ? c->buf[c->pos] : '\0';
    c->pos += (size_t)n + 2;
    return first;
  }
  if (type == '*') {
    char last = '\0';
    for (long i = 0; i < n; i++) last = read_reply(c);
    return last;
  }
  return '\0'; /* + or : */
}

/* `CMD KEY <payload>` as RESP into out (which has room); returns its length. */
static size_t command(char *out, const char *cmd, const char *key, const char *payload, size_t n) {
  int head = sprintf(out, "*3\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n$%zu\r\n", strlen(cmd), cmd, strlen(key), key, n);
  memcpy(out + head, payload, n);
  memcpy(out + head + n, "\r\n", 2);
  return (size_t)head + n + 2;
}

static const char BLPOP_REQ[] = "*3\r\n$5\r\nBLPOP\r\n$3\r\nreq\r\n$1\r\n0\r\n";
static const char BLPOP_RESP[] = "*3\r\n$5\r\nBLPOP\r\n$4\r\nresp\r\n$1\r\n0\r\n";

static void consumer(int port, size_t resp) {
  struct conn *c = connect_to(port);
  char *payload = malloc(resp);
  memset(payload, 'r', resp);
  char *out = malloc(resp + 128);
  size_t out_len = command(out, "RPUSH", "resp", payload, resp);
  for (;;) {
    write_all(c->fd, BLPOP_REQ, sizeof BLPOP_REQ - 1);
    if (read_reply(c) == 'Q') break;
    write_all(c->fd, out, out_len);
    read_reply(c);
  }
  exit(0);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct conn *producer;
static char *request;
static size_t request_len;

static void round_trip(void) {
  write_all(producer->fd, request, request_len);
  read_reply(producer);
  write_all(producer->fd, BLPOP_RESP, sizeof BLPOP_RESP - 1);
  read_reply(producer);
}

static char *batch;
static size_t batch_len;

static void one_map(long chunks) {
  write_all(producer->fd, batch, batch_len);
  for (long i = 0; i < chunks; i++) read_reply(producer);
  for (long i = 0; i < chunks; i++) {
    write_all(producer->fd, BLPOP_RESP, sizeof BLPOP_RESP - 1);
    read_reply(producer);
  }
}

int main(int argc, char **argv) {
  int is_map = argc == 8 && strcmp(argv[2], "map") == 0;
  if (!(argc == 7 && strcmp(argv[2], "rt") == 0) && !is_map) {
    fprintf(stderr, "usage: %s PORT rt ITERATIONS REPS REQ RESP | PORT map CHUNKS MAPS REPS REQ RESP\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  long n = strtol(argv[3], NULL, 10);
  long maps = is_map ? strtol(argv[4], NULL, 10) : 1;
  int reps = atoi(argv[is_map ? 5 : 4]);
  size_t req = strtoul(argv[is_map ? 6 : 5], NULL, 10);
  size_t resp = strtoul(argv[is_map ? 7 : 6], NULL, 10);
  if (port <= 0 || n <= 0 || maps <= 0 || reps <= 0 || req == 0 || resp == 0) {
    fprintf(stderr, "PORT, counts and sizes must be positive\n");
    return 2;
  }

  producer = connect_to(port);
  /* Empty lists to start from (a run before may have been killed). */
  static const char DEL[] = "*3\r\n$3\r\nDEL\r\n$3\r\nreq\r\n$4\r\nresp\r\n";
  write_all(producer->fd, DEL, sizeof DEL - 1);
  read_reply(producer);

  pid_t pids[CONSUMERS];
  fflush(stdout);
  for (int i = 0; i < CONSUMERS; i++) {
    pids[i] = fork();
    if (pids[i] < 0) die("fork");
    if (pids[i] == 0) consumer(port, resp);
  }

  char *payload = malloc(req);
  memset(payload, 'q', req);
  request = malloc(req + 128);
  request_len = command(request, "RPUSH", "req", payload, req);
  batch = malloc((req + 128) * (size_t)(is_map ? n : 1));
  batch_len = 0;
  if (is_map) for (long i = 0; i < n; i++) batch_len += command(batch + batch_len, "RPUSH", "req", payload, req);

  double *samples = malloc(sizeof(double) * (size_t)reps);
  for (int r = -1; r < reps; r++) { /* r = -1: the untimed warm-up block */
    double t0 = now_ns();
    if (is_map) {
      for (long m = 0; m < maps; m++) one_map(n);
    } else {
      for (long i = 0; i < n; i++) round_trip();
    }
    double elapsed = now_ns() - t0;
    if (r >= 0) samples[r] = is_map ? elapsed / 1e6 / (double)maps : elapsed / 1e3 / (double)n;
  }

  char quit[64];
  size_t quit_len = command(quit, "RPUSH", "req", "Q", 1);
  for (int i = 0; i < CONSUMERS; i++) {
    write_all(producer->fd, quit, quit_len);
    read_reply(producer);
  }
  int failed = 0;
  for (int i = 0; i < CONSUMERS; i++) {
    int status;
    if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  }
  if (failed) {
    fprintf(stderr, "a consumer failed\n");
    return 1;
  }
  printf("{\"kind\": \"%s\", \"samples\": [", is_map ? "map" : "rt");
  for (int r = 0; r < reps; r++) printf("%s%.4f", r ? ", " : "", samples[r]);
  printf("]}\n");
  return 0;
}
