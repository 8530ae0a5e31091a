#include "core/args.h"

#include <cmath>
#include <ctime>
#include <string>

namespace mp {

int32_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string("The \"") + name + "\" argument must be a number");
  }
  return info[i].As<Napi::Number>().Int32Value();
}

int64_t MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t ArgDeadlineNs(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return -1;
  if (!info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string("The \"") + name + "\" argument must be a number");
  }
  double ms = info[i].As<Napi::Number>().DoubleValue();
  if (!(ms < 1e12)) return -1;  // Infinity, or more than 30 years: for ever
  return MonotonicNs() + static_cast<int64_t>((ms < 0 ? 0 : ms) * 1e6);
}

[[noreturn]] void ThrowType(Napi::Env env, const std::string& name, const char* what) {
  throw Napi::TypeError::New(env, "The \"" + name + "\" " + what);
}

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& name, const std::string& what) {
  throw Napi::RangeError::New(env, "The \"" + name + "\" argument must " + what);
}

size_t ArgLength(const Napi::CallbackInfo& info, size_t i, const char* name, size_t min, size_t max) {
  ArgInt(info, i, name);
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != std::floor(d)) {
    ThrowRange(info.Env(), name, "be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<size_t>(d);
}

std::vector<int> ArgFds(const Napi::CallbackInfo& info, size_t i, const char* name, size_t max) {
  if (info.Length() <= i || !info[i].IsArray()) ThrowType(info.Env(), name, "argument must be an array of numbers");
  Napi::Array array = info[i].As<Napi::Array>();
  if (array.Length() > max) ThrowRange(info.Env(), name, "have at most " + std::to_string(max) + " entries");
  std::vector<int> fds;
  for (uint32_t k = 0; k < array.Length(); ++k) {
    Napi::Value v = array.Get(k);
    if (!v.IsNumber()) ThrowType(info.Env(), name, "argument must be an array of numbers");
    fds.push_back(v.As<Napi::Number>().Int32Value());
  }
  return fds;
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string("The \"") + name + "\" argument must be a string");
  }
  return info[i].As<Napi::String>().Utf8Value();
}

int64_t ArgSize(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string("The \"") + name + "\" argument must be a number");
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<int64_t>(d))) {
    throw Napi::RangeError::New(info.Env(), std::string("The \"") + name + "\" argument must be a non-negative integer");
  }
  return static_cast<int64_t>(d);
}

Napi::Uint8Array ArgBytes(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), "The \"buffer\" argument must be a Uint8Array");
  }
  return info[i].As<Napi::Uint8Array>();
}

uint8_t* ArgRange(const Napi::CallbackInfo& info, size_t i, size_t* length) {
  Napi::Uint8Array bytes = ArgBytes(info, i);
  double offset = info[i + 1].As<Napi::Number>().DoubleValue();
  double count = info[i + 2].As<Napi::Number>().DoubleValue();
  if (!(offset >= 0) || !(count >= 0) || offset + count > static_cast<double>(bytes.ByteLength())) {
    throw Napi::RangeError::New(info.Env(), "offset and length must lie within the buffer");
  }
  *length = static_cast<size_t>(count);
  return bytes.Data() + static_cast<size_t>(offset);
}

}  // namespace mp
