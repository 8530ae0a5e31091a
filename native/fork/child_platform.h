// Worker threads for V8 in a fork child.
//
// V8 posts background work (TurboFan compile jobs, and any job it creates)
// through the process's v8::Platform, whose worker threads were not copied
// by fork(). A child that posts such work waits for it forever or never
// gets optimized code (measured: a call-heavy loop 14x slower, and hangs).
// Install() points the platform's worker-task entry points at a small pool
// of threads that the child starts on first use.
#pragma once

#include <v8-platform.h>

namespace mp {
namespace child_platform {

// Redirects platform->CallOnWorkerThread / CallDelayedOnWorkerThread to this
// process's own pool. Returns false when the C++ ABI is not one we know.
bool Install(v8::Platform* platform);

// Waits until no posted task is queued or running (before a nested fork).
void Drain();

}  // namespace child_platform
}  // namespace mp
