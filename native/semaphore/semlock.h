// POSIX named semaphores for Lock, RLock, Semaphore and the primitives
// built on them (CPython's _multiprocessing.SemLock), with waits that block
// the calling thread and waits that never block the event loop.
#pragma once

#include <napi.h>

namespace mp {

void InitSemLock(Napi::Env env, Napi::Object exports);

}  // namespace mp
