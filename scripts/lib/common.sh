# Shared by the scripts: paths, logging, the Debian packages, the build.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_DIR="${STACK_DIR:-$ROOT/var}"
[[ "$STACK_DIR" == /* ]] || STACK_DIR="$PWD/$STACK_DIR" # the stack's users start elsewhere

say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { say "$*"; exit 1; }

# Everything the build, the stack and the tests use, as Debian 12 names it
# (systemd: configure finds the unit directory by its systemd.pc; the tests
# run systemd-analyze and systemd-socket-activate).
PACKAGES=(build-essential autoconf automake pkg-config libfcgi-dev libpq-dev libjson-c-dev
          libjwt-dev libssl-dev libcurl4-openssl-dev nginx postgresql python3 openssl curl spawn-fcgi
          systemd)

ensure_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  (( ${#missing[@]} == 0 )) && return 0
  if (( EUID != 0 )); then
    say "missing Debian packages; run this once, then again:"
    printf '  sudo apt-get install -y %s\n' "${missing[*]}" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  # No package may start its daemon (nginx, supervisor, ... each would run
  # a system-wide one nothing here stops): while apt-get runs, a policy-rc.d
  # refuses every start (invoke-rc.d and deb-systemd-invoke ask it), unless
  # the system has a policy of its own.
  local policy=/usr/sbin/policy-rc.d ours="" status=0
  if [[ ! -e "$policy" ]]; then
    ours="$policy"
    # Left behind, it would silently keep every later install's daemons down.
    trap 'rm -f /usr/sbin/policy-rc.d; exit 130' INT TERM
    if ! { printf '#!/bin/sh\n# scripts/lib/common.sh: no daemon starts while it installs\nexit 101\n' > "$policy" &&
           chmod 755 "$policy"; }; then
      rm -f "$ours"
      die "cannot write $policy"
    fi
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
    || { DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
         DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; } \
    || status=1
  if [[ -n "$ours" ]]; then rm -f "$ours"; trap - INT TERM; fi
  (( status == 0 )) || die "apt-get install failed"
}

BUILD="$ROOT/build"

# Started by root, the local stack runs the pool as POOL_USER and its group
# of the same name (system ones, made when missing), and nginx's workers as
# NGINX_USER (Debian's nginx package makes it), never as nobody: README.md,
# "The local stack's users". The group is named, not taken from the user:
# adduser --system alone would have made its primary group nogroup.
POOL_USER=todo-api
# shellcheck disable=SC2034 # read by scripts/stack
NGINX_USER=www-data

ensure_pool_user() {
  (( EUID == 0 )) || return 0
  getent group "$POOL_USER" >/dev/null || groupadd --system "$POOL_USER" ||
    die "groupadd $POOL_USER failed"
  id -u "$POOL_USER" >/dev/null 2>&1 ||
    useradd --system --gid "$POOL_USER" --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$POOL_USER" || die "useradd $POOL_USER failed"
}

# Gives the pool's processes a directory to write to (sanitizer and valgrind
# logs): when root, they run as POOL_USER, not as the caller.
give_to_pool() {
  (( EUID == 0 )) || return 0
  ensure_pool_user
  chown "$POOL_USER:$POOL_USER" "$1"
}

# Builds out of tree in build/ (or $1 with configure options $2...):
# configure once, then make only what changed.
build() {
  local dir="${1:-$BUILD}"
  ( cd "$ROOT" && { [[ -x configure ]] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi; } ) ||
    die "autoreconf failed"
  ( mkdir -p "$dir" && cd "$dir" &&
    { [[ -f Makefile ]] || "$ROOT/configure" -q --enable-werror "${@:2}"; } &&
    make -s -j"$(nproc)" all >/dev/null && make -s -j"$(nproc)" check TESTS= >/dev/null ) ||
    die "build in $dir failed"
}

pg_bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$d" ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
  printf '%s\n' "$d"
}

# The secret of the local stack: the environment's, or one kept under STACK_DIR.
stack_secret() {
  if [[ -n "${BETTER_AUTH_SECRET:-}" ]]; then
    printf '%s\n' "$BETTER_AUTH_SECRET"
  elif [[ -s "$STACK_DIR/secret" ]]; then
    cat "$STACK_DIR/secret"
  else
    mkdir -p "$STACK_DIR"
    ( umask 077; openssl rand -hex 32 > "$STACK_DIR/secret" )
    cat "$STACK_DIR/secret"
  fi
}
