// fork() for a running Node.js process. See docs/ARCHITECTURE.md,
// "Forking Node.js", for the facts each step answers.
#pragma once

#include <napi.h>

namespace mp {

void InitFork(Napi::Env env, Napi::Object exports);

}  // namespace mp
