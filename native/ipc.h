// Starting programs (posix_spawn), pipes, Unix sockets with descriptor
// passing, and the blocking reads and polls the connections are built on.
#pragma once

#include <napi.h>

namespace mp {

void InitIpc(Napi::Env env, Napi::Object exports);

}  // namespace mp
