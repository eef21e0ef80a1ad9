# Shared helpers of scripts/run and scripts/test: packages, builds, throwaway PostgreSQL clusters.
# shellcheck shell=bash

SKY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

SKY_PACKAGES=(
  build-essential cmake ninja-build ccache lld pkg-config git python3
  libcaf-dev libpqxx-dev libpq-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libcurl4-openssl-dev libssl-dev libspdlog-dev libfmt-dev libcli11-dev
  libxml2-dev libre2-dev libpsl-dev zlib1g-dev
  libphonenumber8 libabsl-dev libprotobuf-dev libtcmalloc-minimal4
  postgresql postgresql-contrib curl
  chromium # the rendering tier's headless browser
)

# What only the tests need: GoogleTest, clang for the fuzzers, PgBouncer for the pooled runs and
# a driver for the console's browser tests.
SKY_TEST_PACKAGES=(
  libgtest-dev libgmock-dev clang libclang-rt-14-dev pgbouncer
  chromium-driver python3-selenium python3-yaml
)

# Object files are cached by ccache under paths relative to the checkout, so a fresh clone reuses
# what an earlier build of the same sources compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$SKY_ROOT}"
# (Debug builds name their directory in the debug info; it is left out of the key, or no clone at
# another path would ever hit.)
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

sky_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the Debian packages that are missing (SKY_PACKAGES and the arguments); does nothing
# when all are present.
sky_install_packages() {
  local missing=()
  for p in "${SKY_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    sky_log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  sky_phonenumber_headers
}

# libphonenumber's headers, unpacked from Debian's libphonenumber-dev into a cache outside the
# checkout (CMakeLists.txt looks there). The package itself cannot be installed next to the Boost
# 1.81 -dev packages (it depends on libboost-thread-dev, i.e. Boost 1.74); its runtime library,
# libphonenumber8, can and is.
SKY_DEPS_DIR="${SKY_DEPS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scrapersky}"
sky_phonenumber_headers() {
  local dest="$SKY_DEPS_DIR/phonenumber"
  [ -f "$dest/usr/include/phonenumbers/phonenumberutil.h" ] && return 0
  local work
  work="$(mktemp -d /tmp/scrapersky-deb.XXXXXX)"
  sky_log "unpacking libphonenumber-dev headers into $dest"
  if ! (cd "$work" && apt-get download libphonenumber-dev >/dev/null 2>&1); then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    (cd "$work" && apt-get download libphonenumber-dev >/dev/null)
  fi
  mkdir -p "$dest"
  dpkg-deb -x "$work"/libphonenumber-dev_*.deb "$dest"
  rm -rf "$work"
}

# sky_build <build-dir> <cmake args...>; SKY_TARGET=name builds only that target.
sky_build() {
  local dir="$1"; shift
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$SKY_ROOT" -B "$dir" -G Ninja -DSCRAPERSKY_PHONENUMBER_ROOT="$SKY_DEPS_DIR/phonenumber/usr" \
      "$@" >/dev/null
  fi
  cmake --build "$dir" -j "$(nproc)" ${SKY_TARGET:+--target "$SKY_TARGET"}
}

sky_pg_bin() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -n "$bin" ] || { echo "PostgreSQL server binaries not found" >&2; return 1; }
  echo "$bin"
}

sky_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the postgres user when we are root (initdb refuses root), else as ourselves.
sky_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# sky_pg_start <data-dir> <port>: initialises (once) and starts a loopback-only cluster.
sky_pg_start() {
  local data="$1" port="$2" bin
  bin="$(sky_pg_bin)"
  mkdir -p "$data"
  [ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$data"
  chmod 700 "$data"
  if [ ! -f "$data/PG_VERSION" ]; then
    sky_as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  sky_as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c max_connections=300 -c fsync=${SKY_PG_FSYNC:-on}" start >/dev/null
}

sky_pg_stop() {
  local data="$1" bin
  bin="$(sky_pg_bin)"
  [ -f "$data/postmaster.pid" ] && sky_as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

# sky_pg_standby <primary-port> <data-dir> <port>: a streaming standby of the loopback cluster on
# <primary-port> (a base backup with -R), started on <port>; then every commit on the primary
# waits for it (synchronous replication), so what a client saw committed survives a failover.
sky_pg_standby() {
  local primary="$1" data="$2" port="$3" bin
  bin="$(sky_pg_bin)"
  mkdir -p "$data"
  [ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$data"
  chmod 700 "$data"
  # (The primary's socket lives in its data directory; the backup rightly skips it, and says so.)
  sky_as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres -D "$data" -R -X stream \
    -c fast -d "application_name=standby" 2>&1 >/dev/null |
    { grep -v 'skipping special file' >&2 || true; }
  [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
  sky_pg_start "$data" "$port"
  sky_as_pg psql -qAt -h 127.0.0.1 -p "$primary" -U postgres -d postgres \
    -c "ALTER SYSTEM SET synchronous_standby_names = 'standby'" -c "SELECT pg_reload_conf()" >/dev/null
  for _ in $(seq 300); do
    [ "$(sky_as_pg psql -qAt -h 127.0.0.1 -p "$primary" -U postgres -d postgres \
        -c "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")" = sync ] &&
      return 0
    sleep 0.1
  done
  echo "the standby on port $port did not become synchronous" >&2
  return 1
}

# sky_pg_crash <data-dir>: stops a cluster as a crash would (no checkpoint, no goodbye to clients).
sky_pg_crash() {
  local data="$1" bin
  bin="$(sky_pg_bin)"
  sky_as_pg "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null
}

# sky_pg_promote <data-dir>: the standby becomes a primary that accepts writes.
sky_pg_promote() {
  local data="$1" bin
  bin="$(sky_pg_bin)"
  sky_as_pg "$bin/pg_ctl" -D "$data" -w -t 60 promote >/dev/null
}

# sky_pgbouncer_start <dir> <pg-port> <port>: a transaction-mode PgBouncer on 127.0.0.1:<port> in
# front of the cluster on <pg-port>, for any database name (like Supavisor in front of Supabase).
sky_pgbouncer_start() {
  local dir="$1" pgport="$2" port="$3"
  mkdir -p "$dir"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$pgport user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 40
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  [ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$dir"
  sky_as_pg /usr/sbin/pgbouncer -d -q "$dir/pgbouncer.ini"
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "PgBouncer did not start; see $dir/pgbouncer.log" >&2
  return 1
}

sky_pgbouncer_stop() {
  local dir="$1"
  [ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
}
