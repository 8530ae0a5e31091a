// Small helpers the native modules share: argument checks and a clock.
#pragma once

#include <napi.h>

#include <cstdint>

namespace mp {

// info[i] as a 32-bit integer; TypeError naming `name` when it is not a number.
int32_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name);

// Milliseconds of CLOCK_MONOTONIC, for deadlines that survive EINTR.
int64_t MonotonicMs();

}  // namespace mp
