# Stage helpers for scripts/test.sh (sourced): each stage runs under a hang guard (a time limit far
# above its expected time, never a pass/fail threshold), is timed, and its time is printed at the
# end. Background stages log to target/ci/<name>.log; their log is printed when they fail.
declare -a STAGE_TIMES=()
declare -A BG_PID=() BG_START=() BG_GUARD=()

_record() { STAGE_TIMES+=("$(printf '%6d s  %s' "$2" "$1")"); }

_guard_note() { # name guard status
  if [ "$3" = 124 ] || [ "$3" = 137 ]; then
    echo "!! stage '$1' hit its hang guard (${2} s): it hung or the machine stalled; see its output above" >&2
  fi
}

# stage NAME GUARD_SECONDS COMMAND...: runs in the foreground.
stage() {
  local name=$1 guard=$2 t0=$SECONDS status=0
  shift 2
  echo "== $name"
  timeout --kill-after=30 "$guard" "$@" || status=$?
  _record "$name" $((SECONDS - t0))
  if [ "$status" != 0 ]; then
    _guard_note "$name" "$guard" "$status"
    echo "!! stage '$name' failed (exit $status)" >&2
    print_stage_times
    exit "$status"
  fi
}

# bg_stage NAME GUARD_SECONDS COMMAND...: starts in the background; wait_stage NAME joins it.
bg_stage() {
  local name=$1 guard=$2
  shift 2
  echo "== $name (background, log in target/ci/$name.log)"
  timeout --kill-after=30 "$guard" "$@" >"target/ci/$name.log" 2>&1 &
  BG_PID[$name]=$!
  BG_START[$name]=$SECONDS
  BG_GUARD[$name]=$guard
}

wait_stage() {
  local name=$1 status=0
  wait "${BG_PID[$name]}" || status=$?
  unset "BG_PID[$name]"
  _record "$name (background, until joined)" $((SECONDS - BG_START[$name]))
  if [ "$status" != 0 ]; then
    echo "--- target/ci/$name.log (last 80 lines)" >&2
    tail -n 80 "target/ci/$name.log" >&2
    _guard_note "$name" "${BG_GUARD[$name]}" "$status"
    echo "!! background stage '$name' failed (exit $status)" >&2
    print_stage_times
    exit "$status"
  fi
  echo "== $name done"
}

bg_kill_all() {
  local pid
  for pid in "${BG_PID[@]}"; do kill "$pid" 2>/dev/null || true; done
}

print_stage_times() {
  echo "== stage times (wall clock; background stages overlap the others)"
  printf '%s\n' "${STAGE_TIMES[@]}"
}
