// Connections: AF_UNIX socket pairs, non-blocking per-call send/recv with
// descriptors (SCM_RIGHTS), TCP listen/connect/accept, and IoWatcher, the
// one libuv poll per descriptor that lib/connection waits through.
#pragma once

#include <napi.h>

namespace mp {

void InitConn(Napi::Env env, Napi::Object exports);

}  // namespace mp
