#!/usr/bin/env bash
# npm run test:asan: builds the addon with AddressSanitizer and
# UndefinedBehaviorSanitizer into build-asan/ (the normal build is left
# alone), then runs the native-heavy tests with the sanitizer runtimes
# preloaded into node (which is not instrumented itself). Any report fails
# the run. Needs g++ with libasan and libubsan (Debian: g++ has them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/build-asan"

rm -rf "$out"
mkdir -p "$out"
cp -r native binding.gyp "$out/"
ln -s "$root/node_modules" "$out/node_modules"
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
# The headers npm builds against (a machine may have them locally, with no download).
nodedir=${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}
if [ -n "$nodedir" ] && [ "$nodedir" != "undefined" ] && [ "$nodedir" != "null" ]; then export npm_config_nodedir="$nodedir"; fi
(cd "$out" && CXXFLAGS="$sanitize" LDFLAGS="-fsanitize=address,undefined" "$root/node_modules/.bin/node-gyp" rebuild >"$out/build.log" 2>&1) ||
  { cat "$out/build.log" >&2; echo "test:asan: the sanitizer build failed" >&2; exit 1; }

asan=$(g++ -print-file-name=libasan.so)
ubsan=$(g++ -print-file-name=libubsan.so)
[ -f "$asan" ] && [ -f "$ubsan" ] || { echo "test:asan: libasan/libubsan not found (install g++)" >&2; exit 1; }
reports="$out/reports"
mkdir -p "$reports"

# Node is not instrumented: leaks are V8's business, and its own allocations
# must not trip the allocator checks. Every report goes to $reports.
export MULTIPROCESSING_ADDON="$out/build/Release/multiprocessing.node"
export LD_PRELOAD="$asan:$ubsan"
export ASAN_OPTIONS="detect_leaks=0:alloc_dealloc_mismatch=0:new_delete_type_mismatch=0:log_path=$reports/asan:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"

status=0
"$root/node_modules/.bin/mocha" --no-config --timeout 120000 --reporter dot \
  dist/test/hostile/*.test.js dist/test/ipc.test.js dist/test/sharedmem.test.js dist/test/atomics.test.js dist/test/sync.test.js \
  dist/test/process.test.js dist/test/start_methods.test.js || status=$?

unset LD_PRELOAD
if compgen -G "$reports/*" >/dev/null; then
  echo "test:asan: sanitizer reports:" >&2
  cat "$reports"/* >&2
  exit 1
fi
[ "$status" -eq 0 ] || { echo "test:asan: tests failed (exit $status)" >&2; exit "$status"; }
echo "test:asan: no sanitizer report"
