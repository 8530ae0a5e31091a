// Between Node-API values and V8's own, for the few things Node-API lacks
// (a SharedArrayBuffer over external memory, a function's script origin).
// node.h first where this is included: its node_version.h defines
// NAPI_VERSION unconditionally.
#pragma once

#include <napi.h>
#include <v8.h>

#include <cstring>

namespace mp {

// A napi_value is a v8::Local<v8::Value> in Node's implementation.
inline v8::Local<v8::Value> ToV8(napi_value value) {
  v8::Local<v8::Value> local;
  static_assert(sizeof(local) == sizeof(value), "napi_value is not a v8::Local");
  std::memcpy(static_cast<void*>(&local), &value, sizeof(value));
  return local;
}

inline napi_value FromV8(v8::Local<v8::Value> local) {
  napi_value value;
  std::memcpy(static_cast<void*>(&value), &local, sizeof(value));
  return value;
}

}  // namespace mp
