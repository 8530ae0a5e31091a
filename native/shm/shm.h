// POSIX shared memory: shm_open/ftruncate/mmap(MAP_SHARED) exposed as
// external ArrayBuffers, and anonymous shareable memory for the Value/Array
// arenas (memfd_create on Linux).
#pragma once

#include <napi.h>

namespace mp {

void InitShm(Napi::Env env, Napi::Object exports);

}  // namespace mp
