// Atomics across processes: futex wait and wake on words of shared memory
// (a SharedArrayBuffer over a mapping), sync and async.
#pragma once

#include <napi.h>

namespace mp {

void InitAtomics(Napi::Env env, Napi::Object exports);

}  // namespace mp
