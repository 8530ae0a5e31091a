{
  "targets": [
    {
      "target_name": "multiprocessing",
      "sources": [
        "native/core/addon.cc",
        "native/core/args.cc",
        "native/core/errors.cc",
        "native/core/reflect.cc",
        "native/fd/fd.cc",
        "native/fd/rights.cc",
        "native/fork/child_loop.cc",
        "native/fork/child_platform.cc",
        "native/fork/fork.cc",
        "native/fork/forkability.cc",
        "native/fork/prefault.cc",
        "native/fork/threadpool_pause.cc",
        "native/semaphore/sem.cc",
        "native/semaphore/semlock.cc",
        "native/semaphore/waiters.cc",
        "native/shm/atomics.cc",
        "native/shm/shm.cc",
        "native/socket/conn.cc",
        "native/socket/unix_socket.cc",
        "native/spawn/proc.cc",
        "native/spawn/spawn.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
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
