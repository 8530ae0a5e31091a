// What a fork child does to the event loop it inherits, and the nested loop
// that lets an async run() finish without returning into the caller's code.
#pragma once

#include <uv.h>

namespace mp {

// Called in the fork child before any JS runs again: detaches every
// inherited I/O watcher (so the parent's servers, sockets and stdin are not
// serviced here), forgets inherited requests that can never complete,
// re-arms the loop with uv_loop_fork, stops inherited fs watchers and
// unrefs every inherited handle. Returns 0 or a libuv error.
int AdoptLoopInChild(uv_loop_t* loop);

// One turn of the loop for the nested run. Returns false without blocking
// when nothing could ever wake the loop (no ref'd handle, request or timer).
bool RunLoopOnce(uv_loop_t* loop);

}  // namespace mp
