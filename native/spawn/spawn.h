// Starting programs (posix_spawn, optionally detached from this process
// tree), parent-death signals and close-on-exec pipes.
#pragma once

#include <napi.h>

namespace mp {

void InitSpawn(Napi::Env env, Napi::Object exports);

}  // namespace mp
