# Stage helpers for scripts/test.sh (sourced): each stage runs under a hang guard (a time limit far
# above its expected time, never a pass/fail threshold), is timed, and its time is printed at the
# end with how busy the two cores were meanwhile (what is left idle is where background work
# fits), the CPU seconds of its own process tree and, while the emulators run, theirs: the
# budget is two cores' seconds, so a stage's CPU seconds say what it costs the others. Background stages log to target/ci/<name>.log; their log is printed when they fail.
declare -a STAGE_TIMES=()
declare -A BG_PID=() BG_START=() BG_GUARD=()

# The machine's busy and total CPU ticks since boot (/proc/stat; iowait counts as idle).
_cpu() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

# _own_cpu FILE: the CPU seconds (user + system) of this shell's finished children, from bash's
# `times` (its second line: "0m12.340s 0m1.200s"), into FILE: a stage's own work, its waited-for
# descendants included. `times` must run in the stage's own shell, not in a pipe's subshell.
_own_cpu() {
  times >"$1.times"
  awk 'NR == 2 {split($1,u,/[ms]/); split($2,s,/[ms]/); printf "%d\n", u[1]*60+u[2]+s[1]*60+s[2]}' \
    "$1.times" >"$1"
  rm -f "$1.times"
}

# The emulators' CPU seconds so far (the moto servers run outside every stage's process tree).
_moto_cpu() {
  local pid ticks=0 hz
  hz=$(getconf CLK_TCK)
  for pid in $(cat .venv/moto.pid 2>/dev/null); do
    [ -r "/proc/$pid/stat" ] && ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo $((ticks / hz))
}

# _record NAME SECONDS [CPU_AT_START [OWN_CPU_SECONDS [MOTO_CPU_AT_START]]]: the stage's line,
# with the machine's CPU use since then, the stage's own CPU seconds and the emulators'.
_record() {
  local busy="" own=""
  if [ -n "${3:-}" ]; then
    read -r b1 t1 <<<"$3"
    read -r b2 t2 <<<"$(_cpu)"
    [ "$t2" -gt "$t1" ] && busy=$(printf '  (CPU %3d %%)' $((100 * (b2 - b1) / (t2 - t1))))
  fi
  [ -n "${4:-}" ] && own=$(printf '  [%d CPU-s own' "$4")
  if [ -n "$own" ]; then
    local moto=$(($(_moto_cpu) - ${5:-0}))
    [ "$moto" -gt 0 ] && own+=$(printf ', moto %d' "$moto")
    own+="]"
  fi
  STAGE_TIMES+=("$(printf '%6d s%s%s  %s' "$2" "$busy" "$own" "$1")")
}

_guard_note() { # name guard status
  if [ "$3" = 124 ] || [ "$3" = 137 ]; then
    echo "!! stage '$1' hit its hang guard (${2} s): it hung or the machine stalled; see its output above" >&2
  fi
}

# stage NAME GUARD_SECONDS COMMAND...: runs in the foreground.
stage() {
  local name=$1 guard=$2 t0=$SECONDS status=0 cpu0 moto0
  cpu0=$(_cpu)
  moto0=$(_moto_cpu)
  shift 2
  echo "== $name"
  (
    status=0
    timeout --kill-after=30 "$guard" "$@" || status=$?
    _own_cpu target/ci/.stage.cpu
    exit "$status"
  ) || status=$?
  _record "$name" $((SECONDS - t0)) "$cpu0" "$(cat target/ci/.stage.cpu 2>/dev/null)" "$moto0"
  if [ "$status" != 0 ]; then
    _guard_note "$name" "$guard" "$status"
    echo "!! stage '$name' failed (exit $status)" >&2
    print_stage_times
    exit "$status"
  fi
}

# bg_stage NAME GUARD_SECONDS COMMAND...: starts in the background; wait_stage NAME joins it.
# Its own time (start to finish, not to the join) is kept in target/ci/<name>.secs.
bg_stage() {
  local name=$1 guard=$2
  shift 2
  echo "== $name (background, log in target/ci/$name.log)"
  (
    t0=$SECONDS
    status=0
    # In the background and waited for, so a TERM from bg_kill_all reaches the guarded command
    # (timeout passes it on) instead of orphaning it.
    timeout --kill-after=30 "$guard" "$@" >"target/ci/$name.log" 2>&1 &
    guarded=$!
    trap 'kill "$guarded" 2>/dev/null' TERM
    wait "$guarded" || status=$?
    echo $((SECONDS - t0)) >"target/ci/$name.secs"
    _own_cpu "target/ci/$name.cpu"
    exit "$status"
  ) &
  BG_PID[$name]=$!
  BG_START[$name]=$SECONDS
  BG_GUARD[$name]=$guard
}

wait_stage() {
  local name=$1 status=0
  wait "${BG_PID[$name]}" || status=$?
  unset "BG_PID[$name]"
  local own
  own=$(cat "target/ci/$name.secs" 2>/dev/null || echo "?")
  own+=" s and $(cat "target/ci/$name.cpu" 2>/dev/null || echo "?") CPU-s"
  _record "$name (background: $own of its own; joined after)" $((SECONDS - BG_START[$name]))
  if [ "$status" != 0 ]; then
    # A failure's own lines first (schemathesis prints each under "FAILURES", pytest-style
    # tools under "___"): the tail alone is a summary that names no request.
    if grep -q "^=* FAILURES =*$\|^___" "target/ci/$name.log"; then
      echo "--- target/ci/$name.log (its failures, at most 150 lines)" >&2
      sed -n '/^=* FAILURES =*$/,/^=* SUMMARY =*$/p' "target/ci/$name.log" | head -n 150 >&2
    fi
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
