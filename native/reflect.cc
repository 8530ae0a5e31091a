// node.h first: its node_version.h defines NAPI_VERSION unconditionally.
#include <node.h>

#include "reflect.h"

#include <v8.h>

#include <cstring>

namespace mp {

namespace {

// A napi_value is a v8::Local<v8::Value> in Node's implementation.
v8::Local<v8::Value> ToV8(napi_value value) {
  v8::Local<v8::Value> local;
  static_assert(sizeof(local) == sizeof(value), "napi_value is not a v8::Local");
  std::memcpy(static_cast<void*>(&local), &value, sizeof(value));
  return local;
}

// functionOrigin(fn) → { url, line, column } of the script that defined fn
// (line and column 0-based), or null for bound, native and eval'd
// functions, which no module can export by name.
Napi::Value FunctionOrigin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    throw Napi::TypeError::New(env, "The \"fn\" argument must be a function");
  }
  v8::Local<v8::Value> value = ToV8(info[0]);
  v8::Local<v8::Function> fn = value.As<v8::Function>();
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  int line = fn->GetScriptLineNumber();
  if (line == v8::Function::kLineOffsetNotFound) return env.Null();
  v8::Local<v8::Value> name = fn->GetScriptOrigin().ResourceName();
  if (name.IsEmpty() || !name->IsString()) return env.Null();
  v8::String::Utf8Value url(isolate, name);
  if (*url == nullptr || url.length() == 0) return env.Null();
  Napi::Object result = Napi::Object::New(env);
  result.Set("url", Napi::String::New(env, *url, static_cast<size_t>(url.length())));
  result.Set("line", Napi::Number::New(env, line));
  result.Set("column", Napi::Number::New(env, fn->GetScriptColumnNumber()));
  return result;
}

}  // namespace

void InitReflect(Napi::Env env, Napi::Object exports) {
  exports.Set("functionOrigin", Napi::Function::New(env, FunctionOrigin, "functionOrigin"));
}

}  // namespace mp
