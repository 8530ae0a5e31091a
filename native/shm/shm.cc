// node.h first: its node_version.h defines NAPI_VERSION unconditionally.
#include <node.h>

#include "shm/shm.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>

#include "core/args.h"
#include "core/errors.h"
#include "fd/fd.h"
#include "core/v8_values.h"

namespace mp {

namespace {

// Closes the descriptor unless released: every early exit leaves nothing open.
void FdSizeOf(Napi::Env env, int fd, int64_t* size) {
  struct stat st;
  if (fstat(fd, &st) != 0) ThrowErrno(env, "fstat");
  *size = static_cast<int64_t>(st.st_size);
}

// shmOpen(name, create, size) → { fd, size }. `name` has its leading slash.
// create: O_CREAT|O_EXCL, then ftruncate(size); a failed ftruncate unlinks
// what was just made. attach: the size is the segment's own (fstat).
Napi::Value ShmOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgString(info, 0, "name");
  bool create = info.Length() > 1 && info[1].ToBoolean().Value();
  int64_t size = create ? ArgSize(info, 2, "size") : 0;
  int flags = O_RDWR | (create ? O_CREAT | O_EXCL : 0);
  int fd;
  do {
    fd = shm_open(name.c_str(), flags, 0600);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) ThrowErrno(env, "shm_open");
  UniqueFd guard(fd);
#if !defined(__linux__)
  // shm_open has no O_CLOEXEC on every platform; spawned programs must not inherit it.
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) ThrowErrno(env, "fcntl");
#endif
  if (create) {
    int r;
    do {
      r = ftruncate(fd, static_cast<off_t>(size));
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
      int e = errno;
      shm_unlink(name.c_str());
      ThrowErrno(env, e, "ftruncate");
    }
  }
  int64_t actual = 0;
  try {
    FdSizeOf(env, fd, &actual);
  } catch (...) {
    if (create) shm_unlink(name.c_str());
    throw;
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, guard.release()));
  result.Set("size", Napi::Number::New(env, static_cast<double>(actual)));
  return result;
}

Napi::Value ShmUnlink(const Napi::CallbackInfo& info) {
  std::string name = ArgString(info, 0, "name");
  if (shm_unlink(name.c_str()) != 0) ThrowErrno(info.Env(), "shm_unlink");
  return info.Env().Undefined();
}

// One mapping handed to JavaScript. Its address range belongs to its
// ArrayBuffer (and the SharedArrayBuffer made over it, if any) until the
// last of them is finalized and unmaps it: releaseShared() only swaps the
// shared pages for private anonymous ones, so the range is never reused
// while a view, or native work on the threadpool (zlib, crypto, fs), may
// still reach it. The registry finds a mapping from its ArrayBuffer's
// address.
#if defined(MAP_NORESERVE)
constexpr int kNoReserve = MAP_NORESERVE;
#else
constexpr int kNoReserve = 0;
#endif

struct Mapping {
  void* addr;
  size_t length;
  bool released;
  int owners;  // the ArrayBuffer, and the SharedArrayBuffer if one was made
};

std::mutex g_mappingsMutex;
std::unordered_map<void*, Mapping*>& Mappings() {
  static auto* mappings = new std::unordered_map<void*, Mapping*>();  // leaked: finalizers may run at exit
  return *mappings;
}

// One owner lets go; the last unmaps. Any thread: V8 may free a
// SharedArrayBuffer's backing store wherever its last reference goes.
void DropOwner(Mapping* mapping) {
  {
    std::lock_guard<std::mutex> lock(g_mappingsMutex);
    if (--mapping->owners > 0) return;
    // Nothing to tell anyone if this fails: the range is only address space now.
    (void)munmap(mapping->addr, mapping->length);
    auto found = Mappings().find(mapping->addr);
    if (found != Mappings().end() && found->second == mapping) Mappings().erase(found);
  }
  delete mapping;
}

void FinalizeMapping(Napi::Env, void*, Mapping* mapping) { DropOwner(mapping); }

// mapShared(fd, size, offset = 0) → ArrayBuffer over mmap(MAP_SHARED). The
// mapping outlives the descriptor.
Napi::Value MapShared(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  int64_t size = ArgSize(info, 1, "size");
  int64_t offset = info.Length() > 2 && !info[2].IsUndefined() ? ArgSize(info, 2, "offset") : 0;
  if (size == 0) return Napi::ArrayBuffer::New(env, 0);
  void* addr = mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(offset));
  if (addr == MAP_FAILED) ThrowErrno(env, "mmap");
  auto* mapping = new Mapping{addr, static_cast<size_t>(size), false, 1};
  try {
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, addr, mapping->length, FinalizeMapping, mapping);
    std::lock_guard<std::mutex> lock(g_mappingsMutex);
    Mappings()[addr] = mapping;
    return buffer;
  } catch (...) {
    // The JS error being thrown is the one to report; the range goes back either way.
    (void)munmap(addr, mapping->length);
    delete mapping;
    throw;
  }
}

// releaseShared(arrayBuffer): lets go of the shared pages now, atomically
// replacing them with private zero pages (MAP_FIXED) instead of unmapping:
// a view kept by JavaScript, or a threadpool job still reading it, finds
// zeros rather than unmapped memory (SIGSEGV). The ArrayBuffer is not
// detached (that could free the range under such a job); its finalizer
// unmaps the range. Releasing twice does nothing.
Napi::Value ReleaseShared(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) {
    throw Napi::TypeError::New(info.Env(), "The \"buffer\" argument must be an ArrayBuffer");
  }
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  if (buffer.IsDetached() || buffer.ByteLength() == 0) return info.Env().Undefined();
  std::lock_guard<std::mutex> lock(g_mappingsMutex);
  auto found = Mappings().find(buffer.Data());
  if (found == Mappings().end() || found->second->released) return info.Env().Undefined();
  Mapping* mapping = found->second;
  void* replaced = mmap(mapping->addr, mapping->length, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | kNoReserve, -1, 0);
  if (replaced == MAP_FAILED) ThrowErrno(info.Env(), "mmap");
  mapping->released = true;
  return info.Env().Undefined();
}

// sharedBufferOf(arrayBuffer) → a SharedArrayBuffer over the same mapping
// (for Atomics across processes); it keeps the mapping alive as the
// ArrayBuffer does. The caller makes one per mapping.
Napi::Value SharedBufferOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) {
    throw Napi::TypeError::New(env, "The \"buffer\" argument must be an ArrayBuffer");
  }
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (buffer.ByteLength() == 0) return Napi::Value(env, FromV8(v8::SharedArrayBuffer::New(isolate, 0)));
  Mapping* mapping;
  {
    std::lock_guard<std::mutex> lock(g_mappingsMutex);
    auto found = Mappings().find(buffer.Data());
    if (found == Mappings().end()) throw Napi::Error::New(env, "sharedBufferOf: not a mapping of this package");
    mapping = found->second;
    ++mapping->owners;
  }
  std::unique_ptr<v8::BackingStore> store = v8::SharedArrayBuffer::NewBackingStore(
      mapping->addr, mapping->length, [](void*, size_t, void* data) { DropOwner(static_cast<Mapping*>(data)); }, mapping);
  return Napi::Value(env, FromV8(v8::SharedArrayBuffer::New(isolate, std::move(store))));
}

// anonymousShared(size) → fd: shareable memory with no name anywhere
// (memfd_create; elsewhere a shm_open name unlinked at once). Close-on-exec.
Napi::Value AnonymousShared(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t size = ArgSize(info, 0, "size");
  int fd = -1;
#if defined(__linux__) && defined(SYS_memfd_create)
  fd = static_cast<int>(syscall(SYS_memfd_create, "multiprocessing-heap", 1u /* MFD_CLOEXEC */));
  if (fd < 0 && errno != ENOSYS) ThrowErrno(env, "memfd_create");
#endif
  if (fd < 0) {
    std::random_device random;
    for (int attempt = 0; fd < 0; ++attempt) {
      char name[32];
      snprintf(name, sizeof name, "/mp-heap-%08x", static_cast<unsigned>(random()));
      fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
      if (fd >= 0) {
        shm_unlink(name);
      } else if (errno != EEXIST || attempt > 100) {
        ThrowErrno(env, "shm_open");
      }
    }
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
      int e = errno;
      close(fd);
      ThrowErrno(env, e, "fcntl");
    }
  }
  UniqueFd guard(fd);
  int r;
  do {
    r = ftruncate(fd, static_cast<off_t>(size));
  } while (r != 0 && errno == EINTR);
  if (r != 0) ThrowErrno(env, "ftruncate");
  return Napi::Number::New(env, guard.release());
}

Napi::Value FdSize(const Napi::CallbackInfo& info) {
  int64_t size = 0;
  FdSizeOf(info.Env(), ArgInt(info, 0, "fd"), &size);
  return Napi::Number::New(info.Env(), static_cast<double>(size));
}

Napi::Value PageSize(const Napi::Env& env) {
  long page = sysconf(_SC_PAGESIZE);
  return Napi::Number::New(env, page > 0 ? static_cast<double>(page) : 4096.0);
}

}  // namespace

void InitShm(Napi::Env env, Napi::Object exports) {
  exports.Set("shmOpen", Napi::Function::New(env, ShmOpen, "shmOpen"));
  exports.Set("shmUnlink", Napi::Function::New(env, ShmUnlink, "shmUnlink"));
  exports.Set("mapShared", Napi::Function::New(env, MapShared, "mapShared"));
  exports.Set("releaseShared", Napi::Function::New(env, ReleaseShared, "releaseShared"));
  exports.Set("sharedBufferOf", Napi::Function::New(env, SharedBufferOf, "sharedBufferOf"));
  exports.Set("anonymousShared", Napi::Function::New(env, AnonymousShared, "anonymousShared"));
  exports.Set("fdSize", Napi::Function::New(env, FdSize, "fdSize"));
  exports.Set("pageSize", PageSize(env));
}

}  // namespace mp
