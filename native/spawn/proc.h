// Process-level system calls: reaping, signals, descriptors, waiting.
#pragma once

#include <napi.h>

namespace mp {

void InitProc(Napi::Env env, Napi::Object exports);

}  // namespace mp
