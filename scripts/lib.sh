# Shared helpers for the emulator scripts. Source it; don't run it.
# shellcheck shell=bash

# Where the emulator scripts keep pid, port, endpoint and log files.
# EMULATOR_STATE_DIR overrides it (scripts/test.sh uses a private one per run).
emu_state_dir() {
  local d="${EMULATOR_STATE_DIR:-.emulator}"
  mkdir -p "$d"
  printf '%s\n' "$d"
}

# port_in_use PORT: true if something accepts connections on 127.0.0.1:PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port: prints a TCP port on 127.0.0.1 that is free right now.
free_port() {
  local p
  if command -v python3 >/dev/null 2>&1; then
    p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || true)
    if [ -n "$p" ]; then printf '%s\n' "$p"; return 0; fi
  fi
  local _
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    if ! port_in_use "$p"; then printf '%s\n' "$p"; return 0; fi
  done
  echo "could not find a free port on 127.0.0.1" >&2
  return 1
}

# stop_pid PIDFILE NAME: stops the process recorded in PIDFILE (that pid only), waits up to ~5 s,
# then SIGKILLs it.
stop_pid() {
  local pidfile="$1" name="$2" pid _
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name (pid $pid) did not exit after SIGTERM; sending SIGKILL" >&2
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# gave_up NAME KEY PORT LOG STATE: reports that server NAME did not come up on PORT, with its log,
# stops it and removes its STATE/KEY.{pid,port,endpoint} files; returns 1.
gave_up() {
  local name="$1" key="$2" port="$3" log="$4" state="$5"
  echo "$name failed to start on 127.0.0.1:$port; its log ($log):" >&2
  cat "$log" >&2 || true
  stop_pid "$state/$key.pid" "$name"
  rm -f "$state/$key.port" "$state/$key.endpoint"
  return 1
}

# start_on_port NAME FIXED: runs the caller's start_once on port FIXED, or, when FIXED is empty, on
# a free port with up to 3 tries (a free port can be taken by someone else between picking and
# binding it). Exits 0 when the server is up, 1 otherwise.
start_on_port() {
  local name="$1" fixed="$2" attempt
  if [ -n "$fixed" ]; then
    start_once "$fixed" && exit 0
    exit 1
  fi
  for attempt in 1 2 3; do
    start_once "$(free_port)" && exit 0
    [ "$attempt" -lt 3 ] && echo "retrying $name on another port..." >&2
  done
  exit 1
}
