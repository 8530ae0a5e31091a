#include "fork/forkability.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <time.h>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace mp {
namespace forkability {

namespace {


#if defined(__linux__)

struct Interval {
  uintptr_t start;
  uintptr_t end;
};

// Merged, sorted address intervals that smaps last showed as MADV_DONTFORK.
std::vector<Interval> g_dontfork;
bool g_scanned = false;
// Private anonymous bytes outside g_dontfork right after the last scan.
size_t g_otherBaseline = 0;

int ReadWholeFile(const char* path, std::string* out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  size_t used = 0;
  out->resize(1 << 16);
  for (;;) {
    if (out->size() - used < 4096) out->resize(out->size() * 2);
    ssize_t n = read(fd, &(*out)[used], out->size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return err;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  close(fd);
  out->resize(used);
  return 0;
}

struct Vma {
  uintptr_t start;
  uintptr_t end;
  bool privateAnon;  // private, no file, no special name: where V8 pages live
};

// Parses "start-end perms offset dev inode   path" (maps and smaps headers).
bool ParseHeader(const char* line, const char* lineEnd, Vma* vma) {
  char* p;
  vma->start = std::strtoull(line, &p, 16);
  if (*p != '-') return false;
  vma->end = std::strtoull(p + 1, &p, 16);
  if (*p != ' ' || p + 6 > lineEnd) return false;
  bool isPrivate = p[4] == 'p';
  p += 5;
  const char* inode = nullptr;
  const char* q = p;
  for (int field = 0; field < 3; ++field) {  // offset, dev, inode
    while (q < lineEnd && *q == ' ') ++q;
    if (field == 2) inode = q;
    while (q < lineEnd && *q != ' ') ++q;
  }
  if (inode == nullptr || inode >= lineEnd) return false;
  bool inodeZero = q - inode == 1 && *inode == '0';
  while (q < lineEnd && *q == ' ') ++q;
  bool anonName = q == lineEnd || (lineEnd - q > 6 && std::strncmp(q, "[anon:", 6) == 0);
  vma->privateAnon = isPrivate && inodeZero && anonName;
  return true;
}

bool IsSmapsHeader(const char* line, const char* lineEnd) {
  // Headers start with a hex address; "Key: value" lines with a capital.
  char c = line < lineEnd ? *line : 'X';
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

template <typename Fn>
void ForEachLine(const std::string& text, Fn fn) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const char* lineEnd = nl ? nl : end;
    fn(p, lineEnd);
    p = lineEnd + 1;
  }
}

void Madvise(uintptr_t start, uintptr_t end, int advice) {
  // Failures are harmless: EINVAL for VM_IO mappings, ENOMEM when another
  // thread unmapped part of the range in the meantime.
  madvise(reinterpret_cast<void*>(start), end - start, advice);
}

bool InsideDontfork(const Vma& v) {
  auto it = std::upper_bound(g_dontfork.begin(), g_dontfork.end(), v.start,
                             [](uintptr_t a, const Interval& i) { return a < i.start; });
  if (it == g_dontfork.begin()) return false;
  --it;
  return v.start >= it->start && v.end <= it->end;
}

int ScanSmaps() {
  std::string text;
  int err = ReadWholeFile("/proc/self/smaps", &text);
  if (err != 0) return err;
  g_dontfork.clear();
  Vma current{};
  bool pending = false;
  ForEachLine(text, [&](const char* line, const char* lineEnd) {
    if (IsSmapsHeader(line, lineEnd)) {
      pending = ParseHeader(line, lineEnd, &current) && current.privateAnon;
      return;
    }
    if (!pending || lineEnd - line < 8 || std::strncmp(line, "VmFlags:", 8) != 0) return;
    pending = false;
    std::string flags(line + 8, lineEnd - line - 8);
    if (flags.find(" dc") == std::string::npos) return;
    if (!g_dontfork.empty() && g_dontfork.back().end == current.start) {
      g_dontfork.back().end = current.end;
    } else {
      g_dontfork.push_back({current.start, current.end});
    }
  });
  g_scanned = true;
  return 0;
}

#endif  // __linux__

}  // namespace

int Prepare(Plan* plan) {
  plan->restore.clear();
#if defined(__linux__)
  std::string maps;
  int err = ReadWholeFile("/proc/self/maps", &maps);
  if (err != 0) return err;
  std::vector<Vma> anon;
  anon.reserve(1024);
  size_t other = 0;
  ForEachLine(maps, [&](const char* line, const char* lineEnd) {
    Vma v;
    if (!ParseHeader(line, lineEnd, &v) || !v.privateAnon) return;
    anon.push_back(v);
    if (!InsideDontfork(v)) other += v.end - v.start;
  });
  // New anonymous memory may hold V8 pages allocated since the last scan.
  // They are made forkable below either way; scanning again (past a
  // threshold) only lets them be marked MADV_DONTFORK again afterwards.
  size_t threshold = std::max<size_t>(8u << 20, g_otherBaseline / 4);
  if (!g_scanned || other > g_otherBaseline + threshold) {
    err = ScanSmaps();
    if (err != 0) return err;
    other = 0;
    for (const Vma& v : anon) {
      if (!InsideDontfork(v)) other += v.end - v.start;
    }
    g_otherBaseline = other;
  }
  uintptr_t runStart = 0, runEnd = 0;
  auto flush = [&]() {
    if (runEnd > runStart) Madvise(runStart, runEnd, MADV_DOFORK);
  };
  for (const Vma& v : anon) {
    if (InsideDontfork(v)) {
      if (!plan->restore.empty() &&
          plan->restore.back().start + plan->restore.back().length == v.start) {
        plan->restore.back().length += v.end - v.start;
      } else {
        plan->restore.push_back({v.start, v.end - v.start});
      }
    }
    if (v.start == runEnd) {
      runEnd = v.end;
    } else {
      flush();
      runStart = v.start;
      runEnd = v.end;
    }
  }
  flush();
#else
  (void)plan;
#endif
  return 0;
}

void Restore(const Plan& plan) {
#if defined(__linux__)
  for (const Range& r : plan.restore) Madvise(r.start, r.start + r.length, MADV_DONTFORK);
#else
  (void)plan;
#endif
}


}  // namespace forkability
}  // namespace mp
