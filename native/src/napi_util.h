// Small helpers over Node-API's C interface: argument parsing and errors.
// Every exported kernel takes a base buffer first, then its tensors as typed
// arrays (or byte offsets into the base buffer), so native code works on
// TF.js tensors in place, without copies.
#pragma once
#include <node_api.h>

#include <cstdint>
#include <exception>
#include <string>

namespace tslm {

/** Thrown inside kernels; converted to a JavaScript Error at the boundary. */
struct KernelError {
  std::string message;
};

class Args {
 public:
  Args(napi_env env, napi_callback_info info, size_t expected, const char* name)
      : env_(env), name_(name) {
    argc_ = kMax;
    napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr);
    if (argc_ < expected) fail("expected " + std::to_string(expected) + " arguments, got " + std::to_string(argc_));
  }

  size_t count() const { return argc_; }

  double num(size_t i) const {
    double v = 0;
    if (napi_get_value_double(env_, argv_[i], &v) != napi_ok) fail("argument " + std::to_string(i) + " must be a number");
    return v;
  }
  int64_t i64(size_t i) const { return static_cast<int64_t>(num(i)); }
  bool flag(size_t i) const {
    bool b = false;
    if (napi_get_value_bool(env_, argv_[i], &b) == napi_ok) return b;
    return num(i) != 0;
  }

  /** Base pointer of an ArrayBuffer or typed array argument, and its byte length. */
  uint8_t* buffer(size_t i, size_t* length = nullptr) const {
    void* data = nullptr;
    size_t len = 0;
    bool is_ab = false;
    napi_is_arraybuffer(env_, argv_[i], &is_ab);
    if (is_ab) {
      napi_get_arraybuffer_info(env_, argv_[i], &data, &len);
    } else {
      bool is_ta = false;
      napi_is_typedarray(env_, argv_[i], &is_ta);
      if (!is_ta) fail("argument " + std::to_string(i) + " must be an ArrayBuffer or typed array");
      napi_typedarray_type type;
      size_t n = 0;
      napi_value ab;
      size_t offset = 0;
      napi_get_typedarray_info(env_, argv_[i], &type, &n, &data, &ab, &offset);
      napi_get_arraybuffer_info(env_, ab, nullptr, &len);
      len -= offset;
    }
    if (length) *length = len;
    return static_cast<uint8_t*>(data);
  }

  /**
   * Typed pointer to a tensor argument, checked to hold `count` elements. A
   * tensor is passed either as a typed array (its own memory: the native
   * backend's storage, bounded only by RAM) or as a byte offset into `heap`,
   * the buffer given as the first argument.
   */
  template <typename T>
  T* at(uint8_t* heap, size_t heap_len, size_t i, int64_t count) const {
    bool is_ta = false;
    napi_is_typedarray(env_, argv_[i], &is_ta);
    if (is_ta) {
      napi_typedarray_type type;
      size_t n = 0, offset = 0;
      void* data = nullptr;
      napi_value ab;
      napi_get_typedarray_info(env_, argv_[i], &type, &n, &data, &ab, &offset);
      uint64_t bytes = static_cast<uint64_t>(n) * element_size(type);
      if (count < 0 || static_cast<uint64_t>(count) * sizeof(T) > bytes)
        fail("argument " + std::to_string(i) + ": " + std::to_string(count * static_cast<int64_t>(sizeof(T))) +
             " bytes needed, the array holds " + std::to_string(bytes));
      return static_cast<T*>(data);
    }
    int64_t off = i64(i);
    if (off < 0 || count < 0 || static_cast<uint64_t>(off) + static_cast<uint64_t>(count) * sizeof(T) > heap_len)
      fail("argument " + std::to_string(i) + ": byte range " + std::to_string(off) + "+" +
           std::to_string(count * static_cast<int64_t>(sizeof(T))) + " is outside the heap of " + std::to_string(heap_len) +
           " bytes");
    return reinterpret_cast<T*>(heap + off);
  }

  /** Whether an optional tensor argument is given (a typed array or an offset >= 0; null or -1 mean none). */
  bool present(size_t i) const {
    napi_valuetype t;
    napi_typeof(env_, argv_[i], &t);
    if (t == napi_null || t == napi_undefined) return false;
    if (t == napi_number) return num(i) >= 0;
    return true;
  }

  static size_t element_size(napi_typedarray_type t) {
    switch (t) {
      case napi_int8_array: case napi_uint8_array: case napi_uint8_clamped_array: return 1;
      case napi_int16_array: case napi_uint16_array: return 2;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: return 4;
      default: return 8;
    }
  }

  [[noreturn]] void fail(const std::string& msg) const { throw KernelError{std::string(name_) + ": " + msg}; }

 private:
  static constexpr size_t kMax = 24;
  napi_env env_;
  const char* name_;
  size_t argc_;
  napi_value argv_[kMax];
};

using Kernel = void (*)(napi_env, const Args&);

/** Turns a kernel that throws KernelError into a Node-API callback that throws a JS Error. */
template <Kernel K>
napi_value wrap(napi_env env, napi_callback_info info) {
  try {
    Args args(env, info, 0, "tslm native");
    K(env, args);
  } catch (const KernelError& e) {
    napi_throw_error(env, "ERR_TSLM_NATIVE", e.message.c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, "ERR_TSLM_NATIVE", e.what());
  }
  return nullptr;
}

/** One exported function. */
struct Export {
  const char* name;
  napi_callback fn;
};

}  // namespace tslm
