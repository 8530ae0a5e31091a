// Turning failed system calls into JavaScript errors shaped like Node's own:
// message "<call> failed: <strerror> (<CODE>)", with errno (negative, as in
// Node), code and syscall properties.
#pragma once

#include <napi.h>

namespace mp {

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall);

// Throws ErrnoError(errno) for the failed call.
[[noreturn]] void ThrowErrno(Napi::Env env, const char* syscall);
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall);

}  // namespace mp
