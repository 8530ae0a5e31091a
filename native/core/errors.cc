#include "core/errors.h"

#include <uv.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace mp {

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  const char* code = uv_err_name(-err);
  std::string message = std::string(syscall) + " failed: " + std::strerror(err) +
                        " (" + code + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("code", Napi::String::New(env, code));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

void ThrowErrno(Napi::Env env, const char* syscall) {
  ThrowErrno(env, errno, syscall);
}

void ThrowErrno(Napi::Env env, int err, const char* syscall) {
  throw ErrnoError(env, err, syscall);
}

}  // namespace mp
