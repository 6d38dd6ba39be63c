# Configures and builds the C++ side. Source after common.sh.
#   build/test     g++ RelWithDebInfo + ASan/UBSan: every test layer runs these binaries
#   build/fuzz     clang + libFuzzer: the fuzz targets only
#   build/release  g++ Release (-O3) without sanitizers: the agent that the demo runs, and benchmarks;
#                  scripts/test builds it too, so that an optimizer warning cannot break users' builds
#   build/tsan     g++ + ThreadSanitizer: the unit and integration tests again (the tsan layer)
# The CMake defaults are for people who build from source (no -Werror, no tests, no benchmarks): every
# build here says what it wants, -Werror included.

NWG_BUILD_TEST=${NWG_BUILD_TEST:-$NWG_ROOT/build/test}
NWG_BUILD_FUZZ=${NWG_BUILD_FUZZ:-$NWG_ROOT/build/fuzz}
NWG_BUILD_RELEASE=${NWG_BUILD_RELEASE:-$NWG_ROOT/build/release}
NWG_BUILD_TSAN=${NWG_BUILD_TSAN:-$NWG_ROOT/build/tsan}
NWG_JOBS=${NWG_JOBS:-$(nproc)}

_configure() {  # _configure DIR ARGS... : configures once, and again when ARGS change
  local dir=$1; shift
  [ -f "$dir/build.ninja" ] && [ "$(cat "$dir/.nwg-configure-args" 2>/dev/null)" = "$*" ] && return 0
  cmake -S "$NWG_ROOT" -B "$dir" -G Ninja "$@" >"$NWG_RUN/log/cmake-$(basename "$dir").log" 2>&1 ||
    { cat "$NWG_RUN/log/cmake-$(basename "$dir").log" >&2; return 1; }
  echo "$*" >"$dir/.nwg-configure-args"
}

build_tests() {
  mkdir -p "$NWG_RUN/log"
  _configure "$NWG_BUILD_TEST" -DNWG_SANITIZE=ON -DNWG_TESTS=ON -DNWG_BENCHMARKS=OFF -DNWG_WERROR=ON || return 1
  cmake --build "$NWG_BUILD_TEST" -j "$NWG_JOBS"
}

# The TSan build's warnings are not errors: -Werror is for the builds whose warnings we own (build/test,
# and the release build); GCC's optimizer warns differently with -fsanitize=thread.
build_tsan() {
  mkdir -p "$NWG_RUN/log"
  _configure "$NWG_BUILD_TSAN" -DNWG_TSAN=ON -DNWG_TESTS=ON -DNWG_BENCHMARKS=OFF -DNWG_WERROR=OFF || return 1
  cmake --build "$NWG_BUILD_TSAN" -j "$NWG_JOBS"
}

# background_build NAME FUNCTION : run a build at the lowest CPU priority while the test layers run
# (most of them wait on networks and services); `background_wait NAME` returns its exit status.
background_build() {
  mkdir -p "$NWG_RUN/log"
  # (renice: `nice` cannot run a shell function)
  ( renice -n 19 -p "$BASHPID" >/dev/null; "$2" >"$NWG_RUN/log/build-$1.log" 2>&1; echo $? >"$NWG_RUN/log/build-$1.rc" ) &
  echo $! >"$NWG_RUN/log/build-$1.pid"
}
background_wait() {
  local pid
  pid=$(cat "$NWG_RUN/log/build-$1.pid" 2>/dev/null) || return 1
  while kill -0 "$pid" 2>/dev/null; do sleep 2; done
  local rc; rc=$(cat "$NWG_RUN/log/build-$1.rc" 2>/dev/null || echo 1)
  [ "$rc" = 0 ] || tail -30 "$NWG_RUN/log/build-$1.log" >&2
  return "$rc"
}

build_release() {
  mkdir -p "$NWG_RUN/log"
  _configure "$NWG_BUILD_RELEASE" -DCMAKE_BUILD_TYPE=Release -DNWG_TESTS=OFF -DNWG_BENCHMARKS=ON \
    -DNWG_WERROR=ON || return 1
  cmake --build "$NWG_BUILD_RELEASE" -j "$NWG_JOBS"
}

build_fuzzers() {
  mkdir -p "$NWG_RUN/log"
  _configure "$NWG_BUILD_FUZZ" -DNWG_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    -DNWG_WERROR=ON || return 1
  cmake --build "$NWG_BUILD_FUZZ" -j "$NWG_JOBS"
}

# run_fuzzers SECONDS : run every fuzz target for SECONDS each, seeded from its corpus folder if any
# (agent/<concern>/fuzz/corpus/<target>/); a crash fails the layer and keeps the reproducer.
run_fuzzers() {
  local secs=$1 rc=0 f name corpus work
  local targets=()
  while IFS= read -r f; do targets+=("$f"); done < <(find "$NWG_BUILD_FUZZ" -maxdepth 4 -type f -name 'fuzz_*' -perm -u+x | sort)
  ((${#targets[@]})) || { log "no fuzz targets built"; return 1; }
  for f in "${targets[@]}"; do
    name=$(basename "$f")
    work="$NWG_RUN/fuzz/$name"; mkdir -p "$work/corpus"
    corpus=$(find "$NWG_ROOT/agent" -type d -path "*/fuzz/corpus/$name" | head -1)
    [ -n "$corpus" ] && cp -n "$corpus"/* "$work/corpus/" 2>/dev/null
    if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
         -artifact_prefix="$work/" "$work/corpus" >"$work/log.txt" 2>&1; then
      printf '  %-32s ok   %s\n' "$name" "$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$work/log.txt" | grep -o '[0-9]*$') runs"
    else
      printf '  %-32s FAIL (see %s)\n' "$name" "$work/log.txt"; tail -30 "$work/log.txt"; rc=1
    fi
  done
  return $rc
}
