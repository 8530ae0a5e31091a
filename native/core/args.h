// Small helpers the native modules share: argument checks and a clock.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mp {

// info[i] as a 32-bit integer; TypeError naming `name` when it is not a number.
int32_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name);

// Throws TypeError "The "<name>" <what>".
[[noreturn]] void ThrowType(Napi::Env env, const std::string& name, const char* what);

// Throws RangeError "The "<name>" argument must <what>".
[[noreturn]] void ThrowRange(Napi::Env env, const std::string& name, const std::string& what);

// info[i] as an integer from min to max.
size_t ArgLength(const Napi::CallbackInfo& info, size_t i, const char* name, size_t min, size_t max);

// info[i] as an array of at most max descriptors.
std::vector<int> ArgFds(const Napi::CallbackInfo& info, size_t i, const char* name, size_t max);

// info[i] as a string.
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name);

// A size or offset: a non-negative integer that fits a double exactly.
int64_t ArgSize(const Napi::CallbackInfo& info, size_t i, const char* name);

// info[i] as a Uint8Array.
Napi::Uint8Array ArgBytes(const Napi::CallbackInfo& info, size_t i);

// The byte range [info[i+1], info[i+1] + info[i+2]) of the Uint8Array info[i], checked.
uint8_t* ArgRange(const Napi::CallbackInfo& info, size_t i, size_t* length);

// Milliseconds of CLOCK_MONOTONIC, for deadlines that survive EINTR.
int64_t MonotonicMs();

// Nanoseconds of CLOCK_MONOTONIC.
int64_t MonotonicNs();

// info[i], a timeout in milliseconds, as an absolute MonotonicNs() deadline:
// -1 (for ever) for null, undefined, Infinity or more than 30 years; a
// negative timeout is 0. TypeError naming `name` when it is not a number.
int64_t ArgDeadlineNs(const Napi::CallbackInfo& info, size_t i, const char* name);

}  // namespace mp
