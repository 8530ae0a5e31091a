// The native core of multiprocessing: thin wrappers over system calls, no
// policy (that lives in lib/).
#include <napi.h>

#include "shm/atomics.h"
#include "socket/conn.h"
#include "fork/fork.h"
#include "socket/unix_socket.h"
#include "spawn/spawn.h"
#include "fork/prefault.h"
#include "spawn/proc.h"
#include "core/reflect.h"
#include "semaphore/semlock.h"
#include "shm/shm.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  mp::InitAtomics(env, exports);
  mp::InitConn(env, exports);
  mp::InitFork(env, exports);
  mp::InitSpawn(env, exports);
  mp::InitUnixSocket(env, exports);
  mp::InitPrefault(env, exports);
  mp::InitProc(env, exports);
  mp::InitReflect(env, exports);
  mp::InitSemLock(env, exports);
  mp::InitShm(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(multiprocessing, Init)
