// The native core of multiprocessing: thin wrappers over system calls, no
// policy (that lives in lib/).
#include <napi.h>

#include "fork.h"
#include "proc.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  mp::InitFork(env, exports);
  mp::InitProc(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(multiprocessing, Init)
