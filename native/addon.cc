// The native core of multiprocessing: thin wrappers over system calls, no
// policy (that lives in lib/).
#include <napi.h>

#include "atomics.h"
#include "conn.h"
#include "fork.h"
#include "ipc.h"
#include "prefault.h"
#include "proc.h"
#include "reflect.h"
#include "semlock.h"
#include "shm.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  mp::InitAtomics(env, exports);
  mp::InitConn(env, exports);
  mp::InitFork(env, exports);
  mp::InitIpc(env, exports);
  mp::InitPrefault(env, exports);
  mp::InitProc(env, exports);
  mp::InitReflect(env, exports);
  mp::InitSemLock(env, exports);
  mp::InitShm(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(multiprocessing, Init)
