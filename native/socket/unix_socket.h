// Unix stream sockets by path (listen, connect), whole messages with
// descriptors (SCM_RIGHTS), exact reads and polls: the blocking calls the
// forkserver, the resource tracker and the connections' handshakes use;
// and the few descriptor calls they need (dup, inheritable, getuid).
#pragma once

#include <napi.h>

namespace mp {

void InitUnixSocket(Napi::Env env, Napi::Object exports);

}  // namespace mp
