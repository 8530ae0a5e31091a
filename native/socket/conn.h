// Connections: AF_UNIX socket pairs, non-blocking per-call send/recv with
// descriptors (SCM_RIGHTS), TCP listen/connect/accept, and IoWatcher, the
// one libuv poll per descriptor that lib/connection waits through.
#pragma once

#include <napi.h>

namespace mp {

void InitConn(Napi::Env env, Napi::Object exports);

// In a fork child, before JavaScript runs again: the parent's IoWatchers
// stop being used (their private epoll instances are the parent's).
void OrphanIoWatchersInChild();

}  // namespace mp
