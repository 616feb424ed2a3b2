# shellcheck shell=bash
# Helpers shared by scripts/run, scripts/test and scripts/lib/pgctl. Source this file; it only
# defines functions and a few variables, it starts nothing by itself.
#
# Everything here must work in two situations:
#   - a fresh Debian 12 CI machine running as root, where nothing is installed yet;
#   - a developer account (not root) on a machine that already has the packages.
# PostgreSQL refuses to run as root, so as root every PostgreSQL server command runs as the
# `postgres` user (runuser) on folders that user owns; as a normal user the user runs them.

if [[ -n "${CLINICORE_COMMON_SH_LOADED:-}" ]]; then
  return 0
fi
CLINICORE_COMMON_SH_LOADED=1

# Repository root, found from this file's location so the scripts work from any cwd.
CLINICORE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The PostgreSQL server binaries are not on PATH on Debian (only pg_wrapper'd clients are).
CLINICORE_PG_BIN="${CLINICORE_PG_BIN:-/usr/lib/postgresql/15/bin}"
export CLINICORE_ROOT CLINICORE_PG_BIN

clinicore_log() { printf '==> %s\n' "$*"; }
clinicore_warn() { printf 'warning: %s\n' "$*" >&2; }
clinicore_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# System packages
# ---------------------------------------------------------------------------------------------

CLINICORE_APT_PACKAGES=(
  build-essential g++ cmake ninja-build ccache pkg-config git
  libpistache-dev libpqxx-dev libhiredis-dev libboost-dev libsodium-dev nlohmann-json3-dev
  libhowardhinnant-date-dev libcurl4-openssl-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  postgresql-15 postgresql-contrib-15 redis-server
  wrk nodejs npm curl clang-14 clang-format-14 libclang-rt-14-dev tzdata ca-certificates
  clang-tidy-14  # scripts/test's static checks; brings python3, which they also use
)

# Prints the packages of CLINICORE_APT_PACKAGES that are not installed, one per line.
# A name counts as installed when a package of that name is installed OR an installed package
# Provides it: postgresql-contrib-15 is a virtual package provided by postgresql-15 on Debian 12,
# and NodeSource's nodejs provides npm; a plain `dpkg-query -W name` would call both missing
# and make every run hit apt.
_clinicore_missing_packages() {
  local -A have=()
  local status pkg provides p
  local -a provided
  while IFS=$'\t' read -r status pkg provides; do
    [[ "$status" == ii* ]] || continue
    have["$pkg"]=1
    [[ -n "$provides" ]] || continue
    # Provides looks like "a (= 1), b, c": keep the names only (no subprocesses here: this
    # loop sees every installed package).
    IFS=',' read -ra provided <<<"$provides"
    for p in "${provided[@]}"; do
      p="${p%% (*}"
      p="${p// /}"
      [[ -n "$p" ]] && have["$p"]=1
    done
  done < <(dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${Provides}\n' 2>/dev/null)

  for p in "${CLINICORE_APT_PACKAGES[@]}"; do
    # node and npm from another source (NodeSource, nvm, ...) are fine; installing Debian's
    # nodejs/npm on top would downgrade or conflict with them.
    if [[ "$p" == nodejs || "$p" == npm ]] && command -v node >/dev/null && command -v npm >/dev/null; then
      continue
    fi
    [[ -n "${have[$p]:-}" ]] || printf '%s\n' "$p"
  done
}

# Installs the Debian packages the build, the tests and the run command need. Silent and
# offline when everything is already there, so it is cheap to call at the start of every script.
clinicore_install_deps() {
  local -a missing
  mapfile -t missing < <(_clinicore_missing_packages)
  ((${#missing[@]} == 0)) && return 0

  clinicore_log "installing Debian packages: ${missing[*]}"
  local -a sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || clinicore_die "missing packages (${missing[*]}) and not root; install them first"
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  # Installing postgresql makes Debian create and start a "main" cluster on 5432; harmless,
  # we never use it (our clusters live in their own folders on their own ports).
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------------------------------------
# npm tools (Swagger UI assets, Redocly CLI)
# ---------------------------------------------------------------------------------------------

# clinicore_npm_deps <dest_dir>
# Installs the exact versions locked in scripts/npm/package-lock.json into <dest_dir>/node_modules.
# `npm ci` wipes node_modules each time, so a stamp (a copy of the lock taken after a successful
# install) lets reruns skip it while the lock is unchanged.
clinicore_npm_deps() {
  local dest="${1:?usage: clinicore_npm_deps <dest_dir>}"
  local src="$CLINICORE_ROOT/scripts/npm"
  local stamp="$dest/node_modules/.clinicore-package-lock.stamp"

  if [[ -f "$stamp" ]] && cmp -s "$src/package-lock.json" "$stamp" &&
    [[ -x "$dest/node_modules/.bin/redocly" && -d "$dest/node_modules/swagger-ui-dist" ]]; then
    return 0
  fi

  clinicore_log "installing npm tools into $dest"
  mkdir -p "$dest"
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  # --ignore-scripts: none of these packages need install scripts, and not running third-party
  # code at install time is one less way for a registry compromise to reach the machine.
  (cd "$dest" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
    clinicore_die "npm ci failed in $dest"
  cp "$src/package-lock.json" "$stamp"
}

# ---------------------------------------------------------------------------------------------
# C++ build
# ---------------------------------------------------------------------------------------------

# Prints the cmake arguments that route compilers through ccache when it exists.
_clinicore_ccache_args() {
  if command -v ccache >/dev/null; then
    printf '%s\n' -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
  fi
}

# clinicore_build <build_dir> <build_type> [extra cmake args...]
# Configures (re-running configure on an existing tree is cheap and picks up new options) and
# builds everything with two jobs: the machines this runs on have two cores.
clinicore_build() {
  local dir="${1:?usage: clinicore_build <build_dir> <build_type> [cmake args...]}"
  local type="${2:?usage: clinicore_build <build_dir> <build_type> [cmake args...]}"
  shift 2
  local -a launcher
  mapfile -t launcher < <(_clinicore_ccache_args)

  clinicore_log "building $type in $dir"
  cmake -S "$CLINICORE_ROOT" -B "$dir" -G Ninja --log-level=WARNING \
    -DCMAKE_BUILD_TYPE="$type" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    "${launcher[@]}" "$@"
  cmake --build "$dir" -j "${CLINICORE_BUILD_JOBS:-2}"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL clusters
# ---------------------------------------------------------------------------------------------

# Runs a command as the owner of our PostgreSQL folders: `postgres` when we are root (the
# server refuses root), ourselves otherwise. cd / first: runuser keeps the cwd, and postgres
# tools warn or fail when they cannot read it (e.g. /root).
_pg_as_owner() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Creates a folder owned by whoever runs the server (see _pg_as_owner), mode 0700.
_pg_mkdir_owned() {
  if ((EUID == 0)); then
    install -d -o postgres -g postgres -m 0700 "$1"
  else
    install -d -m 0700 "$1"
  fi
}

# The unix socket folder of a cluster: beside the data folder, so clusters never share
# /var/run/postgresql (which needs root to create and is where Debian's own cluster lives).
_pg_socket_dir() {
  local datadir
  datadir="$(realpath -m "$1")"
  printf '%s/pg-socket\n' "$(dirname "$datadir")"
}

# pg_cluster_init <datadir> <port> [fast]
# Creates the cluster when <datadir> is empty or missing, then (re)writes our settings block in
# postgresql.conf, so a changed port takes effect on the next start of a reused cluster.
# "fast" (or CLINICORE_PG_FAST=1) turns durability off: for throwaway test clusters only.
pg_cluster_init() {
  local datadir="${1:?usage: pg_cluster_init <datadir> <port> [fast]}"
  local port="${2:?usage: pg_cluster_init <datadir> <port> [fast]}"
  local fast=0
  [[ "${3:-}" == fast || "${CLINICORE_PG_FAST:-0}" == 1 ]] && fast=1
  datadir="$(realpath -m "$datadir")"
  local base sockdir
  base="$(dirname "$datadir")"
  sockdir="$(_pg_socket_dir "$datadir")"

  # Unix socket paths are limited to 107 bytes including ".s.PGSQL.<port>".
  ((${#sockdir} <= 85)) || clinicore_die "socket folder path too long (${#sockdir} > 85): $sockdir"

  # The parent is ours only when we create it; never chown a folder someone else made.
  [[ -d "$base" ]] || _pg_mkdir_owned "$base"
  [[ -d "$datadir" ]] || _pg_mkdir_owned "$datadir"
  [[ -d "$sockdir" ]] || _pg_mkdir_owned "$sockdir"
  # As root the server runs as postgres, which must be able to walk down to these folders
  # (a mktemp -d folder or a repo under /root is mode 0700: chmod it o+x).
  if ! _pg_as_owner test -w "$datadir" -a -w "$sockdir"; then
    clinicore_die "the server user cannot write $datadir or $sockdir (every parent folder needs o+x; the folders must belong to the server user)"
  fi

  if [[ ! -f "$datadir/PG_VERSION" ]]; then
    if [[ -n "$(ls -A "$datadir")" ]]; then
      clinicore_die "$datadir is not empty and holds no PostgreSQL cluster; refusing to touch it"
    fi
    # C.UTF-8 gives UTF-8 text with byte-order collation (stable, fast, no ICU surprises);
    # plain C where the C.UTF-8 locale is missing.
    local locale=C
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
      locale=C.UTF-8
    fi
    local -a initdb_args=(-D "$datadir" -U postgres --auth=trust -E UTF8 --locale="$locale")
    ((fast)) && initdb_args+=(--no-sync)
    local out
    if ! out="$(_pg_as_owner "$CLINICORE_PG_BIN/initdb" "${initdb_args[@]}" 2>&1)"; then
      printf '%s\n' "$out" >&2
      clinicore_die "initdb failed for $datadir"
    fi
  fi

  local conf="$datadir/postgresql.conf"
  local begin='# >>> clinicore settings (written by scripts/lib/common.sh, rewritten on each init)'
  local end='# <<< clinicore settings'
  local block
  block="$(
    printf '%s\n' "$begin"
    printf "listen_addresses = '127.0.0.1'\n"
    printf 'port = %s\n' "$port"
    printf "unix_socket_directories = '%s'\n" "$sockdir"
    # Test clusters serve CLINICORE_TEST_LANES test binaries at once, each with its servers' pools.
    printf 'max_connections = %s\n' "$( ((fast)) && echo 400 || echo 200)"
    printf 'shared_buffers = 128MB\n'
    if ((fast)); then
      # Test clusters are thrown away: trade crash safety for speed.
      printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n'
    fi
    printf '%s\n' "$end"
  )"
  # Drop the previous block, append the new one. Written through the owner (tee) so the file
  # keeps its owner and mode: a root-owned postgresql.conf would stop the server from starting.
  local kept
  kept="$(awk -v b="$begin" -v e="$end" '$0==b{skip=1} !skip{print} $0==e{skip=0}' "$conf")"
  printf '%s\n%s\n' "$kept" "$block" | _pg_as_owner tee "$conf" >/dev/null
}

# Prints the log file a cluster's server writes to (inside the data folder: owned by the right
# user, and removed with the cluster).
_pg_log_file() { printf '%s/server.log\n' "$(realpath -m "$1")"; }

_pg_is_running() {
  [[ -f "$1/PG_VERSION" ]] || return 1
  _pg_as_owner "$CLINICORE_PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# pg_cluster_start <datadir>: starts the cluster and waits until it accepts connections.
# Does nothing when it is already running.
pg_cluster_start() {
  local datadir="${1:?usage: pg_cluster_start <datadir>}"
  datadir="$(realpath -m "$datadir")"
  [[ -f "$datadir/PG_VERSION" ]] || clinicore_die "no cluster in $datadir (run pg_cluster_init first)"
  _pg_is_running "$datadir" && return 0
  # The socket folder may sit in a tmpfs that was emptied since init.
  local sockdir
  sockdir="$(_pg_socket_dir "$datadir")"
  [[ -d "$sockdir" ]] || _pg_mkdir_owned "$sockdir"
  local log
  log="$(_pg_log_file "$datadir")"
  if ! _pg_as_owner "$CLINICORE_PG_BIN/pg_ctl" -D "$datadir" -l "$log" -w -t 60 -s start; then
    tail -n 30 "$log" >&2 || true
    clinicore_die "PostgreSQL did not start from $datadir (log: $log)"
  fi
}

# pg_cluster_stop <datadir>: fast shutdown (rolls back open transactions, closes sessions).
# Does nothing when the cluster is not running or does not exist.
pg_cluster_stop() {
  local datadir="${1:?usage: pg_cluster_stop <datadir>}"
  datadir="$(realpath -m "$datadir")"
  _pg_is_running "$datadir" || return 0
  if ! _pg_as_owner "$CLINICORE_PG_BIN/pg_ctl" -D "$datadir" -m fast -w -t 60 -s stop; then
    clinicore_warn "fast shutdown of $datadir failed; using immediate"
    _pg_as_owner "$CLINICORE_PG_BIN/pg_ctl" -D "$datadir" -m immediate -w -t 30 -s stop
  fi
}

# pg_cluster_ensure_db <port> <dbname> <role>
# Creates the database roles (docs/tenancy.md, "Database roles") and a database <role> owns,
# when missing:
#   <role>              the provisioner, used only by `clinicore migrate`: owns the database and
#                       the platform's objects. CREATEROLE, for onboarding's provisioning
#                       functions; CREATEDB, for the tests' throwaway databases. Never SUPERUSER.
#   <role>_app          what serve, work and the CLI log in as: NOINHERIT, owns nothing, a member
#                       of clinicore_runtime.
#   clinicore_runtime   NOLOGIN NOINHERIT: every tenant role and clinicore_platform join it.
#   clinicore_platform  NOLOGIN: the DML on the platform's tables.
pg_cluster_ensure_db() {
  local port="${1:?usage: pg_cluster_ensure_db <port> <dbname> <role>}"
  local db="${2:?usage: pg_cluster_ensure_db <port> <dbname> <role>}"
  local role="${3:?usage: pg_cluster_ensure_db <port> <dbname> <role>}"
  # Variables reach the SQL through psql's quoting (:'x' literal, %I identifier), never by
  # pasting text. \gexec runs each generated statement on its own: CREATE DATABASE refuses to
  # run inside a transaction block.
  "$CLINICORE_PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -X -q -v ON_ERROR_STOP=1 -v role="$role" -v app="${role}_app" -v db="$db" >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT format('CREATE ROLE %I LOGIN CREATEDB CREATEROLE', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I NOSUPERUSER LOGIN CREATEDB CREATEROLE', :'role') \gexec
SELECT format('CREATE ROLE %I NOLOGIN NOINHERIT', name)
  FROM unnest(ARRAY['clinicore_platform', 'clinicore_runtime']) AS name
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) \gexec
SELECT format('CREATE ROLE %I LOGIN NOINHERIT', :'app')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app') \gexec
SELECT format('ALTER ROLE %I NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS NOINHERIT LOGIN',
              :'app') \gexec
GRANT clinicore_platform TO clinicore_runtime;
SELECT format('GRANT clinicore_runtime TO %I, %I', :'app', :'role') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L', :'db', :'role', 'UTF8')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
}

# ---------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------

_redis_pid() {
  local pid
  [[ -f "$1/redis.pid" ]] || return 1
  pid="$(<"$1/redis.pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # A stale pid file may name a recycled pid: make sure it is a redis-server.
  kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == redis-server* ]] || return 1
  printf '%s\n' "$pid"
}

# redis-cli as the ACL user of the Redis in <dir> (the password through the environment).
_redis_cli() {
  local dir="$1" port="$2"
  shift 2
  REDISCLI_AUTH="$(cat "$dir/redis.password" 2>/dev/null)" redis-cli --user clinicore --no-auth-warning \
    -h 127.0.0.1 -p "$port" "$@"
}

# redis_url <dir> <port>: the CLINICORE_REDIS_URL of the Redis redis_start runs in <dir>.
redis_url() {
  local dir="${1:?usage: redis_url <dir> <port>}" port="${2:?usage: redis_url <dir> <port>}"
  printf 'redis://clinicore:%s@127.0.0.1:%s/0\n' "$(<"$dir/redis.password")" "$port"
}

# redis_start <dir> <port> [test|run]
# test (default): no persistence at all. run: snapshot every minute when something changed,
# so a developer's sessions and caches survive a restart of scripts/run (Redis holds nothing
# that cannot be lost, this is only convenience). Does nothing when already running.
redis_start() {
  local dir="${1:?usage: redis_start <dir> <port> [test|run]}"
  local port="${2:?usage: redis_start <dir> <port> [test|run]}"
  local mode="${3:-test}"
  mkdir -p "$dir"
  dir="$(realpath "$dir")"
  _redis_pid "$dir" >/dev/null && return 0
  rm -f "$dir/redis.pid"

  # Redis with a password, as in production: one ACL user, the default user off. The password
  # is made once per folder (so a restarted scripts/run keeps it) and is never on a command line.
  if [[ ! -s "$dir/redis.password" ]]; then
    (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=\n' >"$dir/redis.password")
  fi
  (umask 077 && printf 'user default off\nuser clinicore on >%s ~* &* +@all\n' "$(<"$dir/redis.password")" \
    >"$dir/users.acl")
  local -a args=(
    --port "$port" --bind 127.0.0.1 --protected-mode yes
    --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
    --appendonly no --aclfile "$dir/users.acl"
  )
  case "$mode" in
    test) args+=(--save "") ;;
    run) args+=(--save "60 1") ;;
    *) clinicore_die "redis_start: unknown mode $mode (test|run)" ;;
  esac
  # redis_stop only gets the folder: remember the port there.
  printf '%s\n' "$port" >"$dir/redis.port"
  redis-server "${args[@]}" || clinicore_die "redis-server did not start (log: $dir/redis.log)"

  local i
  for ((i = 0; i < 100; i++)); do
    if [[ "$(_redis_cli "$dir" "$port" ping 2>/dev/null)" == PONG ]]; then
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$dir/redis.log" >&2 || true
  clinicore_die "Redis on port $port did not answer (log: $dir/redis.log)"
}

# redis_stop <dir>: shuts down the Redis started by redis_start in <dir>; waits until it is gone.
# Plain SHUTDOWN saves only when save points are configured: nothing in test mode (same as
# NOSAVE), a final snapshot in run mode.
redis_stop() {
  local dir="${1:?usage: redis_stop <dir>}"
  local pid port i
  pid="$(_redis_pid "$dir")" || {
    rm -f "$dir/redis.pid"
    return 0
  }
  port="$(cat "$dir/redis.port" 2>/dev/null || true)"
  if [[ -n "$port" ]]; then
    _redis_cli "$dir" "$port" shutdown >/dev/null 2>&1 || true
  fi
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    if ((i == 50)); then
      kill -TERM "$pid" 2>/dev/null || true
    fi
    sleep 0.1
  done
  clinicore_warn "Redis (pid $pid) ignored shutdown; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------------------------

_port_in_use() {
  if command -v ss >/dev/null; then
    [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]
  else
    # Without iproute2: a successful connect means someone listens.
    (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# free_port: prints a TCP port in 20000-32000 nobody listens on. The range stays below Linux's
# ephemeral range (32768+), so outgoing connections cannot grab it before we bind it. Nothing
# reserves the port: bind it (start the server) before asking for the next one.
free_port() {
  local i p
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 12001))
    if ! _port_in_use "$p"; then
      printf '%s\n' "$p"
      return 0
    fi
  done
  clinicore_die "no free TCP port found in 20000-32000"
}
