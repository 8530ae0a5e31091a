#include "fork/prefault.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/args.h"
#include "core/errors.h"
#include "fd/fd.h"

namespace mp {

namespace {

#if defined(__linux__)

constexpr uint64_t kPagePresent = 1ull << 63;
constexpr uint64_t kPageExclusive = 1ull << 56;  // mapped by this process alone
// A writable mapping larger than this is a reservation that is mostly
// untouched; its pagemap would be slow to read and tell little.
constexpr uintptr_t kMaxScannedMapping = 256u << 20;

struct Range {
  uintptr_t start;
  uintptr_t end;
};

// Private writable mappings, from /proc/self/maps.
int WritablePrivateMappings(std::vector<Range>* out) {
  UniqueFd maps(open("/proc/self/maps", O_RDONLY | O_CLOEXEC));
  if (maps.get() < 0) return errno;
  std::string text;
  char buffer[16384];
  for (;;) {
    ssize_t n = read(maps.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  size_t at = 0;
  while (at < text.size()) {
    size_t eol = text.find('\n', at);
    if (eol == std::string::npos) eol = text.size();
    const char* line = text.c_str() + at;
    char* p;
    uintptr_t start = std::strtoull(line, &p, 16);
    if (*p == '-') {
      uintptr_t end = std::strtoull(p + 1, &p, 16);
      // " rw-p ": readable, writable, private.
      if (p[0] == ' ' && p[1] == 'r' && p[2] == 'w' && p[4] == 'p' && end - start <= kMaxScannedMapping) {
        out->push_back({start, end});
      }
    }
    at = eol + 1;
  }
  return 0;
}

// hotPages() → Float64Array of [start, end) pairs: the pages of private
// writable mappings that this process alone maps (copied since the fork,
// or new), adjacent ones merged.
Napi::Value HotPages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<Range> mappings;
  int err = WritablePrivateMappings(&mappings);
  if (err != 0) ThrowErrno(env, err, "read(/proc/self/maps)");
  UniqueFd pagemap(open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  if (pagemap.get() < 0) ThrowErrno(env, "open(/proc/self/pagemap)");
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  std::vector<Range> hot;
  std::vector<uint64_t> entries;
  for (const Range& m : mappings) {
    size_t count = (m.end - m.start) / page;
    entries.resize(count);
    off_t offset = static_cast<off_t>((m.start / page) * sizeof(uint64_t));
    size_t want = count * sizeof(uint64_t), got = 0;
    while (got < want) {
      ssize_t n = pread(pagemap.get(), reinterpret_cast<char*>(entries.data()) + got, want - got,
                        offset + static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the mapping went away meanwhile: what was read counts
      got += static_cast<size_t>(n);
    }
    for (size_t i = 0; i < got / sizeof(uint64_t); ++i) {
      uint64_t e = entries[i];
      if ((e & kPagePresent) == 0 || (e & kPageExclusive) == 0) continue;
      uintptr_t at = m.start + i * page;
      if (!hot.empty() && hot.back().end == at) {
        hot.back().end = at + page;
      } else {
        hot.push_back({at, at + page});
      }
    }
  }
  Napi::Float64Array out = Napi::Float64Array::New(env, hot.size() * 2);
  for (size_t i = 0; i < hot.size(); ++i) {
    out[i * 2] = static_cast<double>(hot[i].start);
    out[i * 2 + 1] = static_cast<double>(hot[i].end);
  }
  return out;
}

// populate(ranges: Float64Array of [start, end) pairs) → bytes made private.
// Ranges no longer mapped, or not writable, are skipped (ENOMEM, EFAULT);
// a kernel without MADV_POPULATE_WRITE (before 5.14) populates nothing.
Napi::Value Populate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    ThrowType(env, "ranges", "argument must be a Float64Array");
  }
  Napi::Float64Array ranges = info[0].As<Napi::Float64Array>();
  double bytes = 0;
#if defined(MADV_POPULATE_WRITE)
  for (size_t i = 0; i + 1 < ranges.ElementLength(); i += 2) {
    auto start = static_cast<uintptr_t>(ranges[i]);
    auto end = static_cast<uintptr_t>(ranges[i + 1]);
    if (end <= start) continue;
    if (madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_WRITE) == 0) {
      bytes += static_cast<double>(end - start);
    } else if (errno == EINVAL) {
      break;  // not supported here
    }
  }
#endif
  return Napi::Number::New(env, bytes);
}

#else  // !__linux__: no pagemap; nothing is learned or populated.

Napi::Value HotPages(const Napi::CallbackInfo& info) {
  return Napi::Float64Array::New(info.Env(), 0);
}

Napi::Value Populate(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), 0);
}

#endif

}  // namespace

void InitPrefault(Napi::Env env, Napi::Object exports) {
  exports.Set("hotPages", Napi::Function::New(env, HotPages, "hotPages"));
  exports.Set("populate", Napi::Function::New(env, Populate, "populate"));
}

}  // namespace mp
