// node.h first: its node_version.h defines NAPI_VERSION unconditionally.
#include <node.h>

#include "core/reflect.h"
#include "core/v8_values.h"

#include <v8-profiler.h>
#include <v8.h>

#include <cstring>
#include <vector>

namespace mp {

namespace {

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

// Picks, during V8's heap walk, the functions whose script is `url_`. It
// runs while the heap must not change: it only reads (no allocation in the
// JavaScript heap; handles live in the caller's HandleScope).
class DefinedIn : public v8::QueryObjectPredicate {
 public:
  explicit DefinedIn(v8::Local<v8::String> url) : url_(url) {}

  bool Filter(v8::Local<v8::Object> object) override {
    if (!object->IsFunction()) return false;
    v8::Local<v8::Value> name = object.As<v8::Function>()->GetScriptOrigin().ResourceName();
    return !name.IsEmpty() && name->IsString() && name->StrictEquals(url_);
  }

 private:
  v8::Local<v8::String> url_;
};

// functionsDefinedIn(url) → every function object of this isolate defined
// in the script `url`. A full heap walk (V8 collects garbage first: tens of
// milliseconds), for the one case nothing cheaper can answer: a fork child
// needing a function of an ES module that is still evaluating in it.
Napi::Value FunctionsDefinedIn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "The \"url\" argument must be a string");
  }
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  DefinedIn predicate(ToV8(info[0]).As<v8::String>());
  std::vector<v8::Global<v8::Object>> found;
  isolate->GetHeapProfiler()->QueryObjects(context, &predicate, &found);
  Napi::Array result = Napi::Array::New(env, found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    result.Set(static_cast<uint32_t>(i), Napi::Value(env, FromV8(found[i].Get(isolate))));
  }
  return result;
}

}  // namespace

void InitReflect(Napi::Env env, Napi::Object exports) {
  exports.Set("functionOrigin", Napi::Function::New(env, FunctionOrigin, "functionOrigin"));
  exports.Set("functionsDefinedIn", Napi::Function::New(env, FunctionsDefinedIn, "functionsDefinedIn"));
}

}  // namespace mp
