{
  "targets": [
    {
      "target_name": "multiprocessing",
      "sources": [
        "native/addon.cc",
        "native/args.cc",
        "native/atomics.cc",
        "native/child_loop.cc",
        "native/child_platform.cc",
        "native/conn.cc",
        "native/errors.cc",
        "native/fd.cc",
        "native/fork.cc",
        "native/forkability.cc",
        "native/ipc.cc",
        "native/prefault.cc",
        "native/proc.cc",
        "native/reflect.cc",
        "native/rights.cc",
        "native/semlock.cc",
        "native/shm.cc",
        "native/threadpool_pause.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      }
    }
  ]
}
