// Where a JavaScript function was defined (for functions by reference).
#pragma once

#include <napi.h>

namespace mp {

void InitReflect(Napi::Env env, Napi::Object exports);

}  // namespace mp
