# shellcheck shell=bash
# deploy/local/lib.sh: shared by deploy/local/up, deploy/local/down and tests/run.
# Source it after `set -euo pipefail`; it defines functions and settings only, and
# runs nothing.
#
# Settings (environment variables; defaults in brackets). They let tests/run and the
# benchmark start a second, independent stack next to the developer's one.
#   MOTCUA_LOCAL_DIR        state of this stack: data, logs, pids, keys, secrets
#                           [<repo>/.local/dev]
#   MOTCUA_PG_PORT          PostgreSQL TCP port on 127.0.0.1                [25432]
#   (every fixed port of the stacks, tests and benchmarks is below 32768, outside Linux's
#   ephemeral range: a port in it can be held by any outgoing connection, and PostgreSQL
#   then fails to start with "Address already in use")
#   MOTCUA_PORT_BASE        service N listens on base+N (table below)       [8100]
#   MOTCUA_GATEWAY_PORT     nginx gateway on 127.0.0.1                      [8080]
#   MOTCUA_BUILD_DIR        meson build dir, relative to the repo           [build]
#   MOTCUA_BIN_DIR          build tree whose services/<svc>/motcua-<svc> are run, e.g.
#                           build-asan (or a folder holding motcua-<svc> directly)
#                                                                           [$MOTCUA_BUILD_DIR]
#   MOTCUA_DEMO             0: do not load deploy/local/demo                [1]
#   MOTCUA_SERVICES         space-separated services to run   [$MOTCUA_SERVICES_DEFAULT]
#   MOTCUA_GATEWAY_TRUSTED_CIDR  addresses exempt from rate limits, space- or
#                           comma-separated CIDRs (the benchmark uses 127.0.0.1/32) []
#   MOTCUA_GATEWAY_CORS_ORIGINS  allowed web origins, space-separated exact origins
#                           ("https://app.example.vn"); empty: echo any origin  []
#   MOTCUA_PG_DURABLE       0: fsync/synchronous_commit off (throw-away test stacks) [1]
#   MOTCUA_LOG_LEVEL        passed to the services                          [info]
#   MOTCUA_ADMIN_USERNAME   the identity service's bootstrap system_admin (its password:
#                           secrets/identity-admin.password, generated)     [admin]
#   MOTCUA_PG_BIN           PostgreSQL server binaries   [/usr/lib/postgresql/15/bin]
#   MOTCUA_SIM_RETRY_INTERVAL_SECONDS  seconds between a payment simulator's IPN attempts
#                           (the real gateways: 300)                         [300]

# ---------------------------------------------------------------------------
# The one list to edit when a service joins the local stack.
MOTCUA_SERVICES_DEFAULT="identity catalogue dossier tracking payment statistics"

# Port of each service = MOTCUA_PORT_BASE + offset. Also fixes the set of known names.
declare -gA MOTCUA_PORT_OFFSET=(
    [catalogue]=1
    [identity]=2
    [dossier]=3
    [tracking]=4
    [payment]=5
    [statistics]=6
)

# Debian 12 packages needed to build, run and test the project. Used by up and tests/run.
# postgresql-contrib-15 is not in the list: on Debian 12 it is a virtual package provided
# by postgresql-15 itself (unaccent and pg_trgm ship in postgresql-15).
# npm counts as present when an `npm` command exists: NodeSource's nodejs bundles npm
# and conflicts with Debian's npm package.
MOTCUA_DEBIAN_PACKAGES=(
    build-essential meson ninja-build pkg-config
    libulfius-dev libmicrohttpd-dev libjansson-dev libjwt-dev libyder-dev liborcania-dev
    libpq-dev libssl-dev libcmocka-dev libsodium-dev libcurl4-gnutls-dev
    postgresql-15
    nginx openssl curl
    python3-requests python3-yaml python3-pytest python3-jsonschema python3-hypothesis
    wrk nodejs npm
    clang libclang-rt-14-dev
    libcurl4-gnutls-dev python3-aiosmtpd
    libxlsxwriter-dev python3-openpyxl
)

# Test sinks for the tracking service's notifications (started with tracking):
# an SMS gateway simulator (tests/sim/sms_sim.py) and an SMTP sink (aiosmtpd writing a
# Maildir the tests read), on MOTCUA_PORT_BASE + these offsets.
MOTCUA_SMS_SIM_OFFSET=22
MOTCUA_SMTP_SINK_OFFSET=23

MOTCUA_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
MOTCUA_DB_NAME=motcua
MOTCUA_LOCAL_MARKER=.motcua-local-dir

# ---------------------------------------------------------------------------
# Messages

motcua_say() { printf '==> %s\n' "$*"; }
motcua_note() { printf '    %s\n' "$*"; }
motcua_warn() { printf 'warning: %s\n' "$*" >&2; }
motcua_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------------------
# Settings

# motcua_abs_path PATH BASE: PATH made absolute against BASE (no need to exist).
motcua_abs_path() {
    local p=$1 base=$2
    [[ $p == /* ]] || p=$base/$p
    # Drop trailing slashes (but keep "/").
    while [[ $p == */ && $p != / ]]; do p=${p%/}; done
    printf '%s\n' "$p"
}

# motcua_config: fill in defaults, validate, derive paths. Call once before anything else.
motcua_config() {
    MOTCUA_LOCAL_DIR=$(motcua_abs_path "${MOTCUA_LOCAL_DIR:-$MOTCUA_ROOT/.local/dev}" "$PWD")
    MOTCUA_PG_PORT=${MOTCUA_PG_PORT:-25432}
    MOTCUA_PORT_BASE=${MOTCUA_PORT_BASE:-8100}
    MOTCUA_GATEWAY_PORT=${MOTCUA_GATEWAY_PORT:-8080}
    MOTCUA_BUILD_DIR=$(motcua_abs_path "${MOTCUA_BUILD_DIR:-build}" "$MOTCUA_ROOT")
    MOTCUA_BIN_DIR=$(motcua_abs_path "${MOTCUA_BIN_DIR:-$MOTCUA_BUILD_DIR}" "$MOTCUA_ROOT")
    MOTCUA_DEMO=${MOTCUA_DEMO:-1}
    MOTCUA_PG_DURABLE=${MOTCUA_PG_DURABLE:-1}
    MOTCUA_LOG_LEVEL=${MOTCUA_LOG_LEVEL:-info}
    MOTCUA_ADMIN_USERNAME=${MOTCUA_ADMIN_USERNAME:-admin}
    MOTCUA_PG_BIN=${MOTCUA_PG_BIN:-/usr/lib/postgresql/15/bin}
    MOTCUA_GATEWAY_TRUSTED_CIDR=${MOTCUA_GATEWAY_TRUSTED_CIDR:-}
    MOTCUA_GATEWAY_CORS_ORIGINS=${MOTCUA_GATEWAY_CORS_ORIGINS:-}

    local v
    for v in MOTCUA_PG_PORT MOTCUA_PORT_BASE MOTCUA_GATEWAY_PORT; do
        if ! [[ ${!v} =~ ^[0-9]{1,5}$ ]] || ((${!v} < 1 || ${!v} > 65535)); then
            motcua_die "$v must be a TCP port number, not '${!v}'"
        fi
    done
    ((MOTCUA_PORT_BASE + 9 < 65536)) || motcua_die "MOTCUA_PORT_BASE is too high"
    ((MOTCUA_PORT_BASE + 21 < 65536)) || motcua_die "MOTCUA_PORT_BASE is too high (payment simulators: base+20, base+21)"
    [[ $MOTCUA_LOCAL_DIR != / ]] || motcua_die "MOTCUA_LOCAL_DIR must not be /"
    # Paths end up in nginx.conf, postgresql.conf and libpq strings: keep them plain.
    [[ $MOTCUA_LOCAL_DIR =~ ^[A-Za-z0-9_./+@:-]+$ ]] ||
        motcua_die "MOTCUA_LOCAL_DIR may contain only letters, digits and _./+@:- ('$MOTCUA_LOCAL_DIR')"
    [[ $MOTCUA_ADMIN_USERNAME =~ ^[a-z][a-z0-9._-]{2,63}$ ]] ||
        motcua_die "MOTCUA_ADMIN_USERNAME must be a staff username (^[a-z][a-z0-9._-]{2,63}\$)"

    read -r -a MOTCUA_SERVICES_LIST <<<"${MOTCUA_SERVICES:-$MOTCUA_SERVICES_DEFAULT}"
    ((${#MOTCUA_SERVICES_LIST[@]})) || motcua_die "MOTCUA_SERVICES is empty"
    local s
    for s in "${MOTCUA_SERVICES_LIST[@]}"; do
        [[ -n ${MOTCUA_PORT_OFFSET[$s]:-} ]] ||
            motcua_die "unknown service '$s' (known: ${!MOTCUA_PORT_OFFSET[*]})"
    done

    MOTCUA_RUN_DIR=$MOTCUA_LOCAL_DIR/run
    MOTCUA_LOG_DIR=$MOTCUA_LOCAL_DIR/log
    MOTCUA_KEY_DIR=$MOTCUA_LOCAL_DIR/keys
    MOTCUA_SECRET_DIR=$MOTCUA_LOCAL_DIR/secrets
    MOTCUA_NGINX_DIR=$MOTCUA_LOCAL_DIR/nginx
    MOTCUA_STATIC_DIR=$MOTCUA_LOCAL_DIR/static
    MOTCUA_PRIVATE_KEY=$MOTCUA_KEY_DIR/dev-private.pem
    MOTCUA_PUBLIC_KEY=$MOTCUA_KEY_DIR/dev-public.pem
    MOTCUA_TOKEN_BIN=$MOTCUA_BUILD_DIR/common/motcua-token
    # Passwords of the bootstrap administrator and of the demo accounts (one line, no
    # newline; made by motcua_secret_file).
    MOTCUA_ADMIN_PASSWORD_FILE=$MOTCUA_SECRET_DIR/identity-admin.password
    MOTCUA_DEMO_PASSWORD_FILE=$MOTCUA_SECRET_DIR/demo-accounts.password
    MOTCUA_GATEWAY_URL=http://127.0.0.1:$MOTCUA_GATEWAY_PORT
    # The payment gateway simulators (tests/sim; motcua_simulators_start).
    MOTCUA_VNPAY_SIM_URL=http://127.0.0.1:$((MOTCUA_PORT_BASE + MOTCUA_SIM_PORT_OFFSET[vnpay]))
    MOTCUA_NPP_SIM_URL=http://127.0.0.1:$((MOTCUA_PORT_BASE + MOTCUA_SIM_PORT_OFFSET[npp]))
    # Used when the postgres user cannot reach MOTCUA_LOCAL_DIR (e.g. a repo under /root).
    MOTCUA_PG_FALLBACK_DIR=/var/lib/motcua/$(printf '%s' "$MOTCUA_LOCAL_DIR" | sha1sum | cut -c1-40)
}

# motcua_port_in_use PORT: true if something accepts connections on 127.0.0.1:PORT.
motcua_port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# motcua_require_free_port PORT WHAT: die if PORT is taken (by another stack, say).
motcua_require_free_port() {
    if motcua_port_in_use "$1"; then
        motcua_die "port $1 ($2) is already in use by another process; stop it or choose other ports (MOTCUA_PG_PORT, MOTCUA_PORT_BASE, MOTCUA_GATEWAY_PORT)"
    fi
}

motcua_service_port() { printf '%s\n' $((MOTCUA_PORT_BASE + MOTCUA_PORT_OFFSET[$1])); }
motcua_upper() { printf '%s\n' "${1^^}"; }

# ---------------------------------------------------------------------------
# Packages

motcua_install_packages() {
    local p missing=()
    for p in "${MOTCUA_DEBIAN_PACKAGES[@]}"; do
        if [[ $p == npm ]] && command -v npm >/dev/null 2>&1; then
            continue
        fi
        if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) != "install ok installed" ]]; then
            missing+=("$p")
        fi
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    motcua_say "installing Debian packages: ${missing[*]}"
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 ||
            motcua_die "missing packages (${missing[*]}) and not root: install them as root"
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
}

# ---------------------------------------------------------------------------
# Build

# motcua_build DIR [meson setup options...]: configure DIR once, then ninja.
motcua_build() {
    local dir=$1
    shift
    if [[ ! -f $dir/build.ninja ]]; then
        # A folder left by a failed `meson setup` cannot be set up again in place.
        if [[ -d $dir/meson-private ]]; then
            rm -rf -- "$dir"
        fi
        motcua_say "meson setup ${dir#"$MOTCUA_ROOT"/} $*"
        meson setup "$dir" "$MOTCUA_ROOT" "$@" || return 1
    fi
    motcua_say "ninja -C ${dir#"$MOTCUA_ROOT"/}"
    ninja -C "$dir" || return 1
}

# ---------------------------------------------------------------------------
# Local dir

motcua_make_local_dirs() {
    if [[ -d $MOTCUA_LOCAL_DIR && ! -e $MOTCUA_LOCAL_DIR/$MOTCUA_LOCAL_MARKER ]] &&
        [[ -n $(ls -A -- "$MOTCUA_LOCAL_DIR") ]]; then
        motcua_die "$MOTCUA_LOCAL_DIR exists, is not empty and was not made by deploy/local/up"
    fi
    mkdir -p -- "$MOTCUA_LOCAL_DIR" "$MOTCUA_RUN_DIR" "$MOTCUA_LOG_DIR" "$MOTCUA_NGINX_DIR" \
        "$MOTCUA_STATIC_DIR"
    touch -- "$MOTCUA_LOCAL_DIR/$MOTCUA_LOCAL_MARKER"
    (umask 077 && mkdir -p -- "$MOTCUA_KEY_DIR" "$MOTCUA_SECRET_DIR")
    chmod 700 -- "$MOTCUA_KEY_DIR" "$MOTCUA_SECRET_DIR"
}

# motcua_proc_running PID: true while PID exists and is not a zombie (an orphan's parent
# may be slow to reap it).
motcua_proc_running() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
    [[ -n $state && $state != Z ]]
}

# motcua_pid_alive PIDFILE NAME: true if PIDFILE names a live process whose command line
# mentions NAME (guards against a recycled pid).
motcua_pid_alive() {
    local pidfile=$1 name=$2 pid
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    motcua_proc_running "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$name"
}

# motcua_stop_pid PIDFILE NAME [SIGNAL]: SIGNAL (TERM), wait up to 10 s, then KILL.
motcua_stop_pid() {
    local pidfile=$1 name=$2 sig=${3:-TERM} pid i
    if ! motcua_pid_alive "$pidfile" "$name"; then
        rm -f -- "$pidfile"
        return 0
    fi
    pid=$(<"$pidfile")
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        motcua_proc_running "$pid" || break
        sleep 0.1
    done
    if motcua_proc_running "$pid"; then
        motcua_warn "$name (pid $pid) still running after 10 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            motcua_proc_running "$pid" || break
            sleep 0.1
        done
    fi
    rm -f -- "$pidfile"
    motcua_note "stopped $name (pid $pid)"
}

# ---------------------------------------------------------------------------
# PostgreSQL

# Run a PostgreSQL program as the cluster owner: `postgres` when we are root (initdb and
# postgres refuse to run as root), else ourselves. Runs from / so that a cwd the postgres
# user cannot read does not matter. The environment is kept (runuser without -l).
motcua_as_pg() {
    if ((EUID == 0)); then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

motcua_pg_superuser() {
    if ((EUID == 0)); then echo postgres; else id -un; fi
}

# motcua_pg_paths: set MOTCUA_PG_DATA, MOTCUA_PG_SOCKDIR, MOTCUA_PG_LOGFILE.
# Normally <local>/pg and <local>/run/pg; under MOTCUA_PG_FALLBACK_DIR when the postgres
# user cannot traverse MOTCUA_LOCAL_DIR or the socket path would be too long.
motcua_pg_paths() {
    local fb=$MOTCUA_PG_FALLBACK_DIR use_fb=0
    if [[ -f $MOTCUA_LOCAL_DIR/pg/PG_VERSION ]]; then
        use_fb=0
    elif [[ -f $fb/pg/PG_VERSION ]]; then
        use_fb=1
    elif ((EUID == 0)) && ! runuser -u postgres -- test -x "$MOTCUA_LOCAL_DIR" 2>/dev/null; then
        use_fb=1
    elif ((${#MOTCUA_RUN_DIR} + 20 > 100)); then
        use_fb=1
    fi
    if ((use_fb)); then
        MOTCUA_PG_DATA=$fb/pg
        MOTCUA_PG_SOCKDIR=$fb/run
        MOTCUA_PG_LOGFILE=$fb/postgres.log
    else
        MOTCUA_PG_DATA=$MOTCUA_LOCAL_DIR/pg
        MOTCUA_PG_SOCKDIR=$MOTCUA_RUN_DIR/pg
        MOTCUA_PG_LOGFILE=$MOTCUA_LOG_DIR/postgres.log
    fi
}

motcua_pg_running() {
    [[ -f $MOTCUA_PG_DATA/PG_VERSION ]] || return 1
    motcua_as_pg "$MOTCUA_PG_BIN/pg_ctl" status -D "$MOTCUA_PG_DATA" >/dev/null 2>&1
}

# Make a folder owned by the cluster owner, mode 700.
motcua_pg_mkdir() {
    mkdir -p -- "$1"
    if ((EUID == 0)); then chown postgres:postgres -- "$1"; fi
    chmod 700 -- "$1"
}

motcua_pg_write_conf() {
    local durable=""
    if [[ $MOTCUA_PG_DURABLE == 0 ]]; then
        durable=$'fsync = off\nsynchronous_commit = off\nfull_page_writes = off'
    fi
    # Rewritten at every start so that the port and paths follow the settings.
    motcua_as_pg tee "$MOTCUA_PG_DATA/motcua.conf" >/dev/null <<EOF
# Written by deploy/local/up at every start; edit lib.sh, not this file.
listen_addresses = '127.0.0.1'
port = $MOTCUA_PG_PORT
unix_socket_directories = '$MOTCUA_PG_SOCKDIR'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
max_connections = 200
shared_buffers = '256MB'
log_line_prefix = '%m [%p] %q%u@%d/%a '
log_min_duration_statement = 1000
# No personal data in the server's log (ID numbers, phones, names): errors
# without DETAIL (a unique violation's "Key (personal_id)=(...)"), no
# statement text with errors, never a parameter value (slow statements are
# logged with their \$n placeholders only). README.md, "Operations".
log_error_verbosity = terse
log_min_error_statement = panic
log_statement = 'none'
log_parameter_max_length = 0
log_parameter_max_length_on_error = 0
$durable
EOF
}

motcua_pg_start() {
    [[ -x $MOTCUA_PG_BIN/pg_ctl ]] || motcua_die "no PostgreSQL 15 at $MOTCUA_PG_BIN"
    motcua_pg_paths
    if [[ $MOTCUA_PG_DATA != "$MOTCUA_LOCAL_DIR/pg" ]]; then
        motcua_note "postgres cannot use $MOTCUA_LOCAL_DIR: cluster in ${MOTCUA_PG_DATA%/pg}"
        mkdir -p -- /var/lib/motcua
        chmod 755 -- /var/lib/motcua
        motcua_pg_mkdir "${MOTCUA_PG_DATA%/pg}"
        ln -sfn -- "$MOTCUA_PG_LOGFILE" "$MOTCUA_LOG_DIR/postgres.log"
    fi
    motcua_pg_mkdir "$MOTCUA_PG_SOCKDIR"
    if motcua_pg_running; then
        motcua_say "PostgreSQL already running ($MOTCUA_PG_DATA)"
        return 0
    fi
    if [[ ! -f $MOTCUA_PG_DATA/PG_VERSION ]]; then
        motcua_say "initdb $MOTCUA_PG_DATA"
        motcua_pg_mkdir "$MOTCUA_PG_DATA"
        motcua_as_pg "$MOTCUA_PG_BIN/initdb" -D "$MOTCUA_PG_DATA" -U "$(motcua_pg_superuser)" \
            --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
            >"$MOTCUA_LOG_DIR/initdb.log" 2>&1 || {
            tail -n 30 -- "$MOTCUA_LOG_DIR/initdb.log" >&2
            motcua_die "initdb failed (log: $MOTCUA_LOG_DIR/initdb.log)"
        }
        printf "\n# motcua: local settings\ninclude_if_exists = 'motcua.conf'\n" |
            motcua_as_pg tee -a "$MOTCUA_PG_DATA/postgresql.conf" >/dev/null
    fi
    motcua_require_free_port "$MOTCUA_PG_PORT" PostgreSQL
    motcua_pg_write_conf
    touch -- "$MOTCUA_PG_LOGFILE"
    if ((EUID == 0)); then chown postgres:postgres -- "$MOTCUA_PG_LOGFILE"; fi
    motcua_say "starting PostgreSQL on 127.0.0.1:$MOTCUA_PG_PORT"
    if ! motcua_as_pg "$MOTCUA_PG_BIN/pg_ctl" start -D "$MOTCUA_PG_DATA" -l "$MOTCUA_PG_LOGFILE" \
        -w -t 60 >/dev/null; then
        tail -n 30 -- "$MOTCUA_PG_LOGFILE" >&2 || true
        motcua_die "PostgreSQL did not start (log: $MOTCUA_LOG_DIR/postgres.log)"
    fi
}

motcua_pg_stop() {
    motcua_pg_paths
    if motcua_pg_running; then
        motcua_as_pg "$MOTCUA_PG_BIN/pg_ctl" stop -D "$MOTCUA_PG_DATA" -m fast -w -t 60 >/dev/null
        motcua_note "stopped PostgreSQL ($MOTCUA_PG_DATA)"
    fi
}

# motcua_psql ARGS...: psql as the superuser over our unix socket.
motcua_psql() {
    PGOPTIONS="-c client_min_messages=warning" motcua_as_pg psql -X -q -v ON_ERROR_STOP=1 \
        -h "$MOTCUA_PG_SOCKDIR" -p "$MOTCUA_PG_PORT" -U "$(motcua_pg_superuser)" "$@"
}

motcua_service_password_file() { printf '%s\n' "$MOTCUA_SECRET_DIR/$1.password"; }

motcua_service_password() {
    local f
    f=$(motcua_service_password_file "$1")
    if [[ ! -s $f ]]; then
        (umask 077 && openssl rand -hex 24 >"$f")
    fi
    chmod 600 -- "$f"
    tr -d '\n' <"$f"
}

# motcua_secret_file FILE: make FILE (mode 600) holding a random password of 32
# characters on one line without a newline, unless it exists. Used for the identity
# service's bootstrap administrator and the demo accounts (sign-in passwords: the
# password policy refuses all-digit ones, base64 never is).
motcua_secret_file() {
    local f=$1
    if [[ ! -s $f ]]; then
        (umask 077 && openssl rand -base64 24 | tr -d '\n' >"$f")
    fi
    chmod 600 -- "$f"
}

# Database, extensions, and per service: role, password, schema, search_path. Idempotent.
motcua_bootstrap() {
    local svc pw
    motcua_say "bootstrap database $MOTCUA_DB_NAME: ${MOTCUA_SERVICES_LIST[*]}"
    for svc in "${MOTCUA_SERVICES_LIST[@]}"; do
        pw=$(motcua_service_password "$svc")
        # The password goes through the environment (psql's \getenv), not the command line.
        MOTCUA_BOOTSTRAP_PASSWORD=$pw motcua_psql -d postgres \
            -v db="$MOTCUA_DB_NAME" -v svc="$svc" -v role="motcua_$svc" \
            <"$MOTCUA_ROOT/deploy/local/bootstrap.sql" ||
            motcua_die "bootstrap of $svc failed"
    done
}

# ---------------------------------------------------------------------------
# Keys

motcua_make_keys() {
    if [[ ! -s $MOTCUA_PRIVATE_KEY ]]; then
        motcua_say "generating dev JWT key $MOTCUA_PRIVATE_KEY"
        (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
            -out "$MOTCUA_PRIVATE_KEY" 2>/dev/null)
        rm -f -- "$MOTCUA_PUBLIC_KEY"
    fi
    chmod 600 -- "$MOTCUA_PRIVATE_KEY"
    if [[ ! -s $MOTCUA_PUBLIC_KEY ]]; then
        openssl pkey -in "$MOTCUA_PRIVATE_KEY" -pubout -out "$MOTCUA_PUBLIC_KEY"
        chmod 644 -- "$MOTCUA_PUBLIC_KEY"
    fi
}

# motcua_identity_token USERNAME PASSWORD_FILE: an access token (15 minutes) of an
# account of the identity service, from its password grant through the gateway, on
# stdout. The password is read by curl from the file, never passed on a command line.
motcua_identity_token() {
    local user=$1 file=$2 out
    if ! out=$(curl -sS --max-time 15 --retry 5 --retry-delay 1 -X POST \
        "$MOTCUA_GATEWAY_URL/api/v1/auth/token" --data-urlencode grant_type=password \
        --data-urlencode "username=$user" --data-urlencode "password@$file" \
        -w '\n%{http_code}'); then
        motcua_warn "sign-in as $user failed: no answer from $MOTCUA_GATEWAY_URL"
        return 1
    fi
    if [[ ${out##*$'\n'} != 200 ]]; then
        motcua_warn "sign-in as $user failed: ${out%$'\n'*}"
        return 1
    fi
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])' \
        <<<"${out%$'\n'*}"
}

# motcua_service_client SVC SCOPES: make sure service SVC has its own machine client of
# identity with SCOPES (space-separated), the way an operator registers one: created by
# the bootstrap administrator through identity's API (POST /clients), its id and secret
# (answered once) kept in secrets/SVC-client.id and secrets/SVC-client.secret (mode 600,
# no newline). A kept client whose credentials no longer get a token (a new database) is
# registered again. Talks to identity's own port: the gateway starts after the services.
motcua_service_client() {
    local svc=$1 scopes=$2 url out token body
    local id_file=$MOTCUA_SECRET_DIR/$svc-client.id secret_file=$MOTCUA_SECRET_DIR/$svc-client.secret
    url=http://127.0.0.1:$(motcua_service_port identity)
    if [[ -s $id_file && -s $secret_file ]] &&
        curl -sf -o /dev/null --max-time 15 -X POST "$url/api/v1/auth/token" \
            --data-urlencode grant_type=client_credentials --data-urlencode "client_id@$id_file" \
            --data-urlencode "client_secret@$secret_file"; then
        return 0
    fi
    out=$(curl -sS --max-time 15 -X POST "$url/api/v1/auth/token" --data-urlencode grant_type=password \
        --data-urlencode "username=$MOTCUA_ADMIN_USERNAME" \
        --data-urlencode "password@$MOTCUA_ADMIN_PASSWORD_FILE") || return 1
    token=$(/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])' \
        <<<"$out") || { motcua_warn "$svc client: the administrator's sign-in failed"; return 1; }
    body=$(/usr/bin/python3 -c 'import json, sys; print(json.dumps({"name": "motcua-" + sys.argv[1], "scopes": sys.argv[2].split()}))' \
        "$svc" "$scopes")
    out=$(curl -sS --max-time 15 -X POST "$url/api/v1/clients" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' --data "$body") || return 1
    (umask 077 && /usr/bin/python3 -c '
import json, sys
doc = json.load(sys.stdin)
open(sys.argv[1], "w").write(doc["client_id"])
open(sys.argv[2], "w").write(doc["client_secret"])' "$id_file" "$secret_file" <<<"$out") ||
        { motcua_warn "$svc client: identity did not register it"; return 1; }
    motcua_say "registered the $svc service's machine client ($scopes)"
}

# motcua_export_service_client SVC: export SVC's machine client (registered by
# motcua_service_client) as MOTCUA_<SVC>_CLIENT_ID, _CLIENT_SECRET_FILE and _IDENTITY_URL,
# when identity is in the stack and the client exists.
motcua_export_service_client() {
    local svc=$1 up
    up=$(motcua_upper "$svc")
    if motcua_has_identity && [[ -s $MOTCUA_SECRET_DIR/$svc-client.id ]]; then
        export "MOTCUA_${up}_CLIENT_ID=$(<"$MOTCUA_SECRET_DIR/$svc-client.id")"
        export "MOTCUA_${up}_CLIENT_SECRET_FILE=$MOTCUA_SECRET_DIR/$svc-client.secret"
        export "MOTCUA_${up}_IDENTITY_URL=http://127.0.0.1:$(motcua_service_port identity)"
    fi
}

# motcua_has_identity: is the identity service part of this stack?
motcua_has_identity() {
    [[ " ${MOTCUA_SERVICES_LIST[*]} " == *" identity "* ]]
}

# motcua_token SUB ROLES TTL [--agency CODE ...]: a token minted with the dev private
# key by the operators' tool motcua-token (stacks without identity; forged-token tests).
motcua_token() {
    local sub=$1 roles=$2 ttl=$3
    shift 3
    "$MOTCUA_TOKEN_BIN" --key "$MOTCUA_PRIVATE_KEY" --sub "$sub" --roles "$roles" --ttl "$ttl" \
        --iss motcua-identity --aud motcua "$@"
}

# ---------------------------------------------------------------------------
# Services

motcua_service_bin() {
    local svc=$1
    if [[ -x $MOTCUA_BIN_DIR/services/$svc/motcua-$svc ]]; then
        printf '%s\n' "$MOTCUA_BIN_DIR/services/$svc/motcua-$svc"
    elif [[ -x $MOTCUA_BIN_DIR/motcua-$svc ]]; then
        printf '%s\n' "$MOTCUA_BIN_DIR/motcua-$svc"
    else
        return 1
    fi
}

# motcua_export_service_env SVC: export the service's configuration (call in a subshell).
motcua_export_service_env() {
    local svc=$1 up pw
    up=$(motcua_upper "$svc")
    pw=$(motcua_service_password "$svc")
    export "MOTCUA_${up}_PORT=$(motcua_service_port "$svc")"
    export "MOTCUA_${up}_LISTEN_ADDRESS=127.0.0.1"
    # The gateway connects from 127.0.0.1: only its X-Real-IP is believed.
    export "MOTCUA_${up}_HTTP_TRUSTED_PROXIES=127.0.0.1/32"
    export "MOTCUA_${up}_DATABASE_URL=host=127.0.0.1 port=$MOTCUA_PG_PORT dbname=$MOTCUA_DB_NAME user=motcua_$svc password=$pw application_name=motcua-$svc"
    export MOTCUA_JWT_PUBLIC_KEY_FILE=$MOTCUA_PUBLIC_KEY
    export MOTCUA_JWT_ISSUER=motcua-identity
    export MOTCUA_JWT_AUDIENCE=motcua
    export MOTCUA_LOG_LEVEL
    # Every service (identity included) refuses the access tokens identity
    # revoked, from its list polled every few seconds.
    if [[ " ${MOTCUA_SERVICES_LIST[*]} " == *" identity "* ]]; then
        export "MOTCUA_REVOCATIONS_URL=http://127.0.0.1:$(motcua_service_port identity)/.well-known/revocations"
    fi
    # The key of the public lookup's second factors and short codes (dossier hashes
    # them into its events, tracking compares): one secret file for both.
    motcua_secret_file "$MOTCUA_SECRET_DIR/lookup.key"
    export "MOTCUA_LOOKUP_KEY_FILE=$MOTCUA_SECRET_DIR/lookup.key"
    case $svc in
        identity)
            # The issuer signs with the dev key (kid dev-1; the same kid names the
            # key the service verifies tokens with). For a key rotation set
            # MOTCUA_IDENTITY_JWT_PREVIOUS_PUBLIC_KEY_FILE and _PREVIOUS_KEY_ID too.
            export MOTCUA_IDENTITY_JWT_PRIVATE_KEY_FILE=$MOTCUA_PRIVATE_KEY
            export MOTCUA_IDENTITY_JWT_KEY_ID=dev-1
            # The bootstrap system_admin, created at start unless it exists (the
            # password goes through a file, never the environment).
            motcua_secret_file "$MOTCUA_ADMIN_PASSWORD_FILE"
            export MOTCUA_IDENTITY_BOOTSTRAP_ADMIN_USERNAME=$MOTCUA_ADMIN_USERNAME
            export MOTCUA_IDENTITY_BOOTSTRAP_ADMIN_PASSWORD_FILE=$MOTCUA_ADMIN_PASSWORD_FILE
            ;;
        dossier)
            # The catalogue over its REST API; uploaded files on the local disk.
            export "MOTCUA_DOSSIER_CATALOGUE_URL=http://127.0.0.1:$(motcua_service_port catalogue)"
            export MOTCUA_DOSSIER_DOCUMENT_DIR=$MOTCUA_LOCAL_DIR/documents
            mkdir -p -- "$MOTCUA_DOSSIER_DOCUMENT_DIR"
            export "MOTCUA_DOSSIER_WATCH_INTERVAL_SECONDS=${MOTCUA_DOSSIER_WATCH_INTERVAL_SECONDS:-5}"
            # Outbox retention is checked every few seconds here (hourly by default),
            # so the retention API test does not wait.
            export "MOTCUA_DOSSIER_EVENTS_PRUNE_INTERVAL_SECONDS=${MOTCUA_DOSSIER_EVENTS_PRUNE_INTERVAL_SECONDS:-2}"
            # The API tests file hundreds of drafts as one citizen; the limit itself is tested
            # on an instance of its own (tests/api/test_dossier_storage_limits.py).
            export "MOTCUA_DOSSIER_MAX_DRAFTS_PER_CITIZEN=${MOTCUA_DOSSIER_MAX_DRAFTS_PER_CITIZEN:-10000}"
            # Its own machine client (motcua_service_client), to check assignees with identity.
            motcua_export_service_client dossier
            ;;&
        tracking)
            # The dossier feed, read with its own machine client (scope dossier:events).
            export "MOTCUA_TRACKING_DOSSIER_URL=http://127.0.0.1:$(motcua_service_port dossier)"
            export "MOTCUA_TRACKING_FEED_POLL_MS=${MOTCUA_TRACKING_FEED_POLL_MS:-100}"
            # The API tests all come from 127.0.0.1: a wider per-address limit than the
            # default 30 a minute (the limit itself is tested with X-Real-IP, directly).
            export "MOTCUA_TRACKING_LOOKUP_LIMIT_PER_ADDRESS=${MOTCUA_TRACKING_LOOKUP_LIMIT_PER_ADDRESS:-300}"
            motcua_export_service_client tracking
            ;;&
        statistics)
            # The agency tree from the catalogue; the dossier feed with its own machine
            # client (scope dossier:events), polled often so the tests do not wait.
            export "MOTCUA_STATISTICS_CATALOGUE_URL=http://127.0.0.1:$(motcua_service_port catalogue)"
            export "MOTCUA_STATISTICS_DOSSIER_URL=http://127.0.0.1:$(motcua_service_port dossier)"
            export "MOTCUA_STATISTICS_FEED_POLL_MS=${MOTCUA_STATISTICS_FEED_POLL_MS:-200}"
            export "MOTCUA_STATISTICS_AGENCY_CACHE_SECONDS=${MOTCUA_STATISTICS_AGENCY_CACHE_SECONDS:-2}"
            export "MOTCUA_STATISTICS_STOCK_SNAPSHOT_SECONDS=${MOTCUA_STATISTICS_STOCK_SNAPSHOT_SECONDS:-1}"
            motcua_export_service_client statistics
            ;;&
        payment)
            # The dossier service (its feed and the confirmations) and the gateway's base
            # for the return URL; the gateways themselves are the simulators
            # (tests/sim, ports +20 VNPay and +21 the national platform).
            export "MOTCUA_PAYMENT_DOSSIER_URL=http://127.0.0.1:$(motcua_service_port dossier)"
            export "MOTCUA_PAYMENT_PUBLIC_URL=$MOTCUA_GATEWAY_URL"
            export "MOTCUA_PAYMENT_VNPAY_PAY_URL=${MOTCUA_PAYMENT_VNPAY_PAY_URL:-$MOTCUA_VNPAY_SIM_URL/paymentv2/vpcpay.html}"
            export "MOTCUA_PAYMENT_VNPAY_API_URL=${MOTCUA_PAYMENT_VNPAY_API_URL:-$MOTCUA_VNPAY_SIM_URL/merchant_webapi/api/transaction}"
            export "MOTCUA_PAYMENT_NPP_URL=${MOTCUA_PAYMENT_NPP_URL:-$MOTCUA_NPP_SIM_URL/api/v1/thanhtoan}"
            # Short so that the tests see an expiry, a sweep and a retried confirmation quickly.
            export "MOTCUA_PAYMENT_EXPIRY_SECONDS=${MOTCUA_PAYMENT_EXPIRY_SECONDS:-30}"
            export "MOTCUA_PAYMENT_SWEEP_INTERVAL_SECONDS=${MOTCUA_PAYMENT_SWEEP_INTERVAL_SECONDS:-2}"
            export "MOTCUA_PAYMENT_CONFIRM_INTERVAL_SECONDS=${MOTCUA_PAYMENT_CONFIRM_INTERVAL_SECONDS:-1}"
            export "MOTCUA_PAYMENT_FEED_POLL_MS=${MOTCUA_PAYMENT_FEED_POLL_MS:-200}"
            # A refund whose answer was lost is asked about a second later (then with
            # back-off), and a lost answer is given up on after 4 s, so the tests see it.
            export "MOTCUA_PAYMENT_REFUND_QUERY_SECONDS=${MOTCUA_PAYMENT_REFUND_QUERY_SECONDS:-1}"
            export "MOTCUA_PAYMENT_GATEWAY_TIMEOUT_SECONDS=${MOTCUA_PAYMENT_GATEWAY_TIMEOUT_SECONDS:-4}"
            # Reconciliation reads the simulators' daily statements; yesterday is
            # reconciled from midnight (Vietnam time), the schedule checking every 5 s.
            local statement='/sim/statement?merchant_code={merchant_code}&date={date}'
            export "MOTCUA_PAYMENT_VNPAY_STATEMENT_URL=${MOTCUA_PAYMENT_VNPAY_STATEMENT_URL:-$MOTCUA_VNPAY_SIM_URL$statement}"
            export "MOTCUA_PAYMENT_NPP_STATEMENT_URL=${MOTCUA_PAYMENT_NPP_STATEMENT_URL:-$MOTCUA_NPP_SIM_URL$statement}"
            export "MOTCUA_PAYMENT_RECONCILE_HOUR=${MOTCUA_PAYMENT_RECONCILE_HOUR:-0}"
            export "MOTCUA_PAYMENT_RECONCILE_INTERVAL_SECONDS=${MOTCUA_PAYMENT_RECONCILE_INTERVAL_SECONDS:-5}"
            motcua_export_service_client payment
            ;;&
        *)
            # With the identity service in the stack, the others take its keys from
            # its JWKS (fetched at start, refetched on an unknown kid) instead of a
            # key file: the production set-up.
            if [[ " ${MOTCUA_SERVICES_LIST[*]} " == *" identity "* ]]; then
                unset MOTCUA_JWT_PUBLIC_KEY_FILE
                export "MOTCUA_JWKS_URL=http://127.0.0.1:$(motcua_service_port identity)/.well-known/jwks.json"
            fi
            ;;
    esac
    if [[ $svc == tracking ]]; then motcua_export_tracking_delivery_env; fi
}

# The tracking service's deliveries on the local stack: the SMTP sink and the SMS
# simulator (motcua_sinks_start), webhooks allowed to plain http and 127.0.0.1 (the
# tests' receiver), and the retry schedule shrunk (MOTCUA_TRACKING_RETRY_SCALE) so the
# tests see retries in seconds.
motcua_export_tracking_delivery_env() {
    export "MOTCUA_TRACKING_SMTP_URL=smtp://127.0.0.1:$((MOTCUA_PORT_BASE + MOTCUA_SMTP_SINK_OFFSET))"
    export "MOTCUA_TRACKING_MAIL_FROM=${MOTCUA_TRACKING_MAIL_FROM:-motcua-thong-bao@localhost}"
    export "MOTCUA_TRACKING_SMS_URL=http://127.0.0.1:$((MOTCUA_PORT_BASE + MOTCUA_SMS_SIM_OFFSET))/v1/messages"
    motcua_secret_file "$MOTCUA_SECRET_DIR/sms-sim.key"
    export MOTCUA_TRACKING_SMS_API_KEY_FILE=$MOTCUA_SECRET_DIR/sms-sim.key
    export MOTCUA_TRACKING_WEBHOOK_ALLOW_HTTP=1
    # Only loopback, where the tests' receiver listens: every other internal address is
    # refused as in production (the SSRF tests need that).
    export "MOTCUA_TRACKING_WEBHOOK_ALLOWED_INTERNAL=127.0.0.1/32 ::1"
    export "MOTCUA_TRACKING_RETRY_SCALE=${MOTCUA_TRACKING_RETRY_SCALE:-0.0002}"
    export "MOTCUA_TRACKING_DELIVERY_INTERVAL_MS=${MOTCUA_TRACKING_DELIVERY_INTERVAL_MS:-200}"
    export "MOTCUA_TRACKING_WEBHOOK_TIMEOUT_MS=${MOTCUA_TRACKING_WEBHOOK_TIMEOUT_MS:-3000}"
    # A day of failure (scaled: about 17 s) disables a subscription.
    export "MOTCUA_TRACKING_WEBHOOK_DISABLE_AFTER_HOURS=${MOTCUA_TRACKING_WEBHOOK_DISABLE_AFTER_HOURS:-24}"
}

# motcua_sinks_start: the SMTP sink (mail in $MOTCUA_LOCAL_DIR/mail, a Maildir) and the
# SMS simulator (messages in $MOTCUA_LOCAL_DIR/sms/messages.jsonl), when tracking runs.
motcua_sinks_start() {
    [[ " ${MOTCUA_SERVICES_LIST[*]} " == *" tracking "* ]] || return 0
    local dir=$MOTCUA_RUN_DIR/sinks smtp_port sms_port i
    smtp_port=$((MOTCUA_PORT_BASE + MOTCUA_SMTP_SINK_OFFSET))
    sms_port=$((MOTCUA_PORT_BASE + MOTCUA_SMS_SIM_OFFSET))
    # The Maildir with its three folders (aiosmtpd makes them only for a new directory).
    mkdir -p -- "$dir" "$MOTCUA_LOCAL_DIR/mail/tmp" "$MOTCUA_LOCAL_DIR/mail/new" \
        "$MOTCUA_LOCAL_DIR/mail/cur" "$MOTCUA_LOCAL_DIR/sms"
    motcua_secret_file "$MOTCUA_SECRET_DIR/sms-sim.key"
    if ! motcua_pid_alive "$dir/smtp-sink.pid" aiosmtpd; then
        motcua_require_free_port "$smtp_port" "SMTP sink"
        motcua_say "starting the SMTP sink on 127.0.0.1:$smtp_port (mail: $MOTCUA_LOCAL_DIR/mail)"
        nohup setsid /usr/bin/python3 -m aiosmtpd -n -u -l "127.0.0.1:$smtp_port" \
            -c aiosmtpd.handlers.Mailbox "$MOTCUA_LOCAL_DIR/mail" \
            >>"$MOTCUA_LOG_DIR/smtp-sink.log" 2>&1 </dev/null &
        echo "$!" >"$dir/smtp-sink.pid"
    fi
    if ! motcua_pid_alive "$dir/sms-sim.pid" sms_sim.py; then
        motcua_require_free_port "$sms_port" "SMS simulator"
        motcua_say "starting the SMS simulator on 127.0.0.1:$sms_port (messages: $MOTCUA_LOCAL_DIR/sms)"
        nohup setsid /usr/bin/python3 "$MOTCUA_ROOT/tests/sim/sms_sim.py" --port "$sms_port" \
            --dir "$MOTCUA_LOCAL_DIR/sms" --api-key-file "$MOTCUA_SECRET_DIR/sms-sim.key" \
            >>"$MOTCUA_LOG_DIR/sms-sim.log" 2>&1 </dev/null &
        echo "$!" >"$dir/sms-sim.pid"
    fi
    for ((i = 0; i < 100; i++)); do
        motcua_port_in_use "$smtp_port" && motcua_port_in_use "$sms_port" && return 0
        sleep 0.1
    done
    motcua_die "the SMTP sink or the SMS simulator did not start (logs: $MOTCUA_LOG_DIR)"
}

motcua_sinks_stop() {
    local dir=$MOTCUA_RUN_DIR/sinks
    [[ -d $dir ]] || return 0
    motcua_stop_pid "$dir/smtp-sink.pid" aiosmtpd TERM
    motcua_stop_pid "$dir/sms-sim.pid" sms_sim.py TERM
}

motcua_log_tail() {
    printf -- '---- last lines of %s ----\n' "$1" >&2
    tail -n "${2:-40}" -- "$1" >&2 || true
    printf -- '----\n' >&2
}

motcua_service_start() {
    local svc=$1 bin port pidfile log
    bin=$(motcua_service_bin "$svc") ||
        motcua_die "no binary for $svc: looked for $MOTCUA_BIN_DIR/services/$svc/motcua-$svc (build first, or set MOTCUA_BIN_DIR)"
    port=$(motcua_service_port "$svc")
    pidfile=$MOTCUA_RUN_DIR/$svc.pid
    log=$MOTCUA_LOG_DIR/$svc.log
    if motcua_pid_alive "$pidfile" "motcua-$svc"; then
        motcua_say "$svc already running (pid $(<"$pidfile"))"
    else
        motcua_require_free_port "$port" "$svc"
        if [[ $svc == dossier ]] && motcua_has_identity; then
            motcua_service_client dossier identity:staff.read ||
                motcua_die "cannot register the dossier service's machine client with identity"
        fi
        if [[ $svc == tracking ]] && motcua_has_identity; then
            motcua_service_client tracking "dossier:events dossier:contacts" ||
                motcua_die "cannot register the tracking service's machine client with identity"
        fi
        if [[ $svc == statistics ]] && motcua_has_identity; then
            motcua_service_client statistics dossier:events ||
                motcua_die "cannot register the statistics service's machine client with identity"
        fi
        if [[ $svc == payment ]] && motcua_has_identity; then
            motcua_service_client payment "dossier:events dossier:payments dossier:payments.all_agencies" ||
                motcua_die "cannot register the payment service's machine client with identity"
        fi
        motcua_say "starting $svc on 127.0.0.1:$port ($bin)"
        if ! (motcua_export_service_env "$svc" && exec "$bin" migrate) >>"$log" 2>&1 </dev/null; then
            motcua_log_tail "$log"
            motcua_die "motcua-$svc migrate failed (log: $log)"
        fi
        (
            motcua_export_service_env "$svc"
            exec nohup setsid "$bin" serve
        ) >>"$log" 2>&1 </dev/null &
        echo "$!" >"$pidfile"
    fi
    motcua_wait_ready "$svc" "http://127.0.0.1:$port/readyz" "$pidfile" "$log"
}

# motcua_wait_ready NAME URL PIDFILE LOG: wait up to 30 s for URL to answer 200.
motcua_wait_ready() {
    local name=$1 url=$2 pidfile=$3 log=$4 code i
    for ((i = 0; i < 150; i++)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
        [[ $code == 200 ]] && return 0
        if ! motcua_pid_alive "$pidfile" "motcua-$name" && ((i > 2)); then
            motcua_log_tail "$log"
            motcua_die "$name exited before it was ready (log: $log)"
        fi
        sleep 0.2
    done
    motcua_log_tail "$log"
    motcua_die "$name not ready after 30 s: $url answered '${code:-nothing}' (log: $log)"
}

# Stop every service that has a pidfile (also ones no longer in MOTCUA_SERVICES).
motcua_services_stop() {
    local pidfile svc
    [[ -d $MOTCUA_RUN_DIR ]] || return 0
    for pidfile in "$MOTCUA_RUN_DIR"/*.pid; do
        [[ -e $pidfile ]] || continue
        svc=$(basename -- "$pidfile" .pid)
        motcua_stop_pid "$pidfile" "motcua-$svc" TERM
    done
}

# ---------------------------------------------------------------------------
# Gateway

# motcua_render TEMPLATE OUT KEY=VALUE...: replace @KEY@ placeholders; every placeholder
# must get a value.
motcua_render() {
    /usr/bin/python3 - "$@" <<'PY'
import re, sys
template, out, *pairs = sys.argv[1:]
values = dict(p.split("=", 1) for p in pairs)
text = open(template, encoding="utf-8").read()
def sub(m):
    key = m.group(1)
    if key not in values:
        sys.exit(f"{template}: no value for placeholder @{key}@")
    return values[key]
text = re.sub(r"@([A-Z][A-Z0-9_]*)@", sub, text)
with open(out, "w", encoding="utf-8") as f:
    f.write(text)
PY
}

motcua_nginx() {
    nginx -p "$MOTCUA_NGINX_DIR/" -c "$MOTCUA_NGINX_DIR/nginx.conf" \
        -e "$MOTCUA_NGINX_DIR/logs/error.log" "$@"
}

# motcua_api_docs DIR: what the gateway serves at /openapi.json and /docs/ (routes.conf),
# made in DIR: openapi.json, the public API document merged from api-spec/public.yaml by
# common/tools/merge_openapi.py (a conflict between the services' documents stops here),
# and docs/, Swagger UI (swagger-ui-dist, pinned in deploy/gateway/docs/package.json,
# installed with --ignore-scripts once under .local/api-docs of the checkout) with our page.
# Without npm or the registry, /docs/ says so; /openapi.json is always made.
motcua_api_docs() {
    local out=$1 src=$MOTCUA_ROOT/deploy/gateway/docs ui=$MOTCUA_ROOT/.local/api-docs sha f
    mkdir -p -- "$out/docs"
    /usr/bin/python3 "$MOTCUA_ROOT/common/tools/merge_openapi.py" \
        "$MOTCUA_ROOT/api-spec/public.yaml" "$out/openapi.json" ||
        motcua_die "the services' API documents do not merge (api-spec/public.yaml)"
    sha=$(cat "$src/package.json" "$src/package-lock.json" | sha1sum | cut -c1-40)
    if [[ $(cat "$ui/.installed" 2>/dev/null) != "$sha" ]] && command -v npm >/dev/null 2>&1; then
        mkdir -p -- "$ui"
        cp -- "$src/package.json" "$src/package-lock.json" "$ui/"
        if (cd "$ui" && npm ci --ignore-scripts --no-audit --no-fund >"$ui/npm.log" 2>&1); then
            echo "$sha" >"$ui/.installed"
        else
            motcua_warn "npm ci of deploy/gateway/docs failed (see $ui/npm.log): /docs/ has no UI"
        fi
    fi
    rm -f -- "$out/docs/"*
    if [[ $(cat "$ui/.installed" 2>/dev/null) == "$sha" ]]; then
        for f in swagger-ui-bundle.js swagger-ui.css; do
            cp -- "$ui/node_modules/swagger-ui-dist/$f" "$out/docs/"
        done
        cp -- "$src/index.html" "$src/motcua-docs.js" "$out/docs/"
    else
        printf '%s\n' '<!DOCTYPE html><title>motcua API</title><p>Swagger UI is not installed' \
            '(npm ci in deploy/gateway/docs failed); the API document is <a href="/openapi.json">/openapi.json</a>.' \
            >"$out/docs/index.html"
    fi
}

motcua_gateway_config() {
    local gw=$MOTCUA_ROOT/deploy/gateway dir=$MOTCUA_NGINX_DIR svc sub upstreams="" routes=""
    local trusted="" cidr cors="" origin user_directive=""
    mkdir -p -- "$dir/logs" "$dir/tmp" "$dir/motcua/services"
    for sub in client_body proxy fastcgi uwsgi scgi; do mkdir -p -- "$dir/tmp/$sub"; done
    # Shared rules, copied so that the running config is a consistent snapshot and the
    # relative `include motcua/...` lines work here as in production (/etc/nginx/motcua).
    cp -- "$gw"/*.conf "$dir/motcua/"
    rm -f -- "$dir/motcua/motcua.conf" # the production example is not used locally
    rm -f -- "$dir/motcua/services/"*.conf
    cp -- "$gw"/services/*.conf "$dir/motcua/services/"
    motcua_api_docs "$dir/api-docs"

    for svc in "${MOTCUA_SERVICES_LIST[@]}"; do
        upstreams+="    upstream motcua_$svc {
        server 127.0.0.1:$(motcua_service_port "$svc");
        keepalive 64;
        keepalive_timeout 10s;
    }
"
        [[ -f $gw/services/$svc.conf ]] || motcua_die "no gateway routes: deploy/gateway/services/$svc.conf"
        routes+="        include motcua/services/$svc.conf;
"
    done

    for cidr in ${MOTCUA_GATEWAY_TRUSTED_CIDR//,/ }; do
        [[ $cidr =~ ^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$ ]] ||
            motcua_die "MOTCUA_GATEWAY_TRUSTED_CIDR: '$cidr' is not an address or CIDR"
        trusted+="        $cidr 1;
"
    done

    if [[ -z $MOTCUA_GATEWAY_CORS_ORIGINS ]]; then
        cors="        default \$http_origin;
"
    else
        cors="        default \"\";
"
        for origin in $MOTCUA_GATEWAY_CORS_ORIGINS; do
            [[ $origin =~ ^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$ ]] ||
                motcua_die "MOTCUA_GATEWAY_CORS_ORIGINS: '$origin' is not an origin like https://host[:port]"
            cors+="        \"$origin\" \$http_origin;
"
        done
    fi

    # As root, nginx runs its workers as `user`. Use nobody when it can reach our temp
    # and static folders; a repo under /root (mode 700) needs root workers instead.
    if ((EUID == 0)); then
        chown -R nobody:nogroup -- "$dir/tmp"
        if runuser -u nobody -- test -w "$dir/tmp/client_body" -a -x "$dir/tmp/proxy" \
            -a -r "$MOTCUA_STATIC_DIR" -a -x "$MOTCUA_STATIC_DIR" 2>/dev/null; then
            user_directive="user nobody nogroup;"
        else
            user_directive="user root root;  # nobody cannot reach $MOTCUA_LOCAL_DIR"
            chown -R root:root -- "$dir/tmp"
        fi
    fi

    # File descriptors: as many as the hard limit allows, up to 65536.
    local nofile conns
    nofile=$(ulimit -Hn)
    if [[ $nofile == unlimited ]] || ((nofile > 65536)); then nofile=65536; fi
    conns=$((nofile / 2 < 8192 ? nofile / 2 : 8192))

    motcua_render "$gw/nginx.conf.template" "$dir/nginx.conf" \
        "USER_DIRECTIVE=$user_directive" \
        "WORKER_RLIMIT_NOFILE=$nofile" \
        "WORKER_CONNECTIONS=$conns" \
        "PREFIX=$dir" \
        "GATEWAY_PORT=$MOTCUA_GATEWAY_PORT" \
        "STATIC_DIR=$MOTCUA_STATIC_DIR" \
        "API_DOCS_DIR=$dir/api-docs" \
        "UPSTREAMS=$upstreams" \
        "SERVICE_ROUTES=$routes" \
        "TRUSTED_CIDRS=$trusted" \
        "CORS_ORIGINS=$cors"

    local out
    if ! out=$(motcua_nginx -t -q 2>&1); then
        printf '%s\n' "$out" >&2
        motcua_die "nginx rejected $dir/nginx.conf"
    fi
}

motcua_gateway_start() {
    motcua_gateway_config
    local pidfile=$MOTCUA_NGINX_DIR/nginx.pid
    if motcua_pid_alive "$pidfile" nginx; then
        motcua_say "gateway running: reloading its configuration"
        motcua_nginx -s reload
        sleep 0.5
    else
        motcua_require_free_port "$MOTCUA_GATEWAY_PORT" gateway
        motcua_say "starting gateway on $MOTCUA_GATEWAY_URL"
        if ! motcua_nginx; then
            motcua_log_tail "$MOTCUA_NGINX_DIR/logs/error.log" 20
            motcua_die "nginx did not start"
        fi
    fi
    local i code
    for ((i = 0; i < 50; i++)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$MOTCUA_GATEWAY_URL/healthz" || true)
        [[ $code == 200 ]] && return 0
        sleep 0.2
    done
    motcua_log_tail "$MOTCUA_NGINX_DIR/logs/error.log" 20
    motcua_die "gateway not answering on $MOTCUA_GATEWAY_URL/healthz"
}

motcua_gateway_stop() {
    motcua_stop_pid "$MOTCUA_NGINX_DIR/nginx.pid" nginx TERM
}

# ---------------------------------------------------------------------------
# Payment gateway simulators (tests/sim): VNPay and the national payment platform, on
# MOTCUA_PORT_BASE + offset, with one merchant per demo agency per provider.

declare -gA MOTCUA_SIM_PORT_OFFSET=(
    [vnpay]=20
    [npp]=21
)

motcua_sim_port() { printf '%s\n' $((MOTCUA_PORT_BASE + MOTCUA_SIM_PORT_OFFSET[$1])); }

# motcua_payment_merchants: make $MOTCUA_SECRET_DIR/payment-simulators.json (mode 600)
# unless it exists: per provider, one merchant per agency of deploy/local/demo with a
# random secret (and a bearer token for the national platform), notified at the payment
# service's IPN / confirm URLs through the gateway. Both simulators and the payment
# service's merchant set-up read it.
motcua_payment_merchants() {
    local file=$MOTCUA_SECRET_DIR/payment-simulators.json
    if [[ ! -s $file ]]; then
        (umask 077 && /usr/bin/python3 - "$MOTCUA_ROOT/deploy/local/demo/agencies.json" \
            "$MOTCUA_GATEWAY_URL" >"$file.tmp" <<'PY'
import json, re, secrets, sys
agencies = json.load(open(sys.argv[1], encoding="utf-8"))
gateway = sys.argv[2]
vnpay, npp = [], []
for agency in agencies:
    code = agency["code"]
    # 000.00.06.H56 -> T0006H56 (VNPay terminal codes are 8 characters), DVC0006H56.
    short = "".join(code.split(".")[1:3]) + re.sub(r"[^A-Za-z0-9]", "", code.split(".")[3])[:3]
    vnpay.append({"agency_code": code, "merchant_code": "T" + short,
                  "secret": secrets.token_hex(16).upper(),
                  "notify_url": gateway + "/api/v1/payments/ipn/vnpay"})
    npp.append({"agency_code": code, "merchant_code": "DVC" + short,
                "secret": secrets.token_hex(16), "token": secrets.token_urlsafe(24),
                "notify_url": gateway + "/api/v1/payments/ipn/national-platform"})
for merchants in (vnpay, npp):
    assert len({m["merchant_code"] for m in merchants}) == len(merchants), "duplicate merchant codes"
doc = {section: {"merchants": merchants, "retry_interval_seconds": 300, "max_attempts": 10}
       for section, merchants in (("vnpay", vnpay), ("national_platform", npp))}
json.dump(doc, sys.stdout, ensure_ascii=False, indent=1)
PY
        ) || motcua_die "cannot write $file"
        mv -- "$file.tmp" "$file"
    fi
    chmod 600 -- "$file"
}

# motcua_simulators_start: both simulators (already running ones are left running).
# MOTCUA_SIM_RETRY_INTERVAL_SECONDS overrides the configured 300 s between IPN attempts
# (the test stack scales it down; the simulators' /sim/control can change it too).
motcua_simulators_start() {
    local sim port pidfile log script i
    motcua_payment_merchants
    mkdir -p -- "$MOTCUA_RUN_DIR/sim"
    for sim in vnpay npp; do
        port=$(motcua_sim_port "$sim")
        pidfile=$MOTCUA_RUN_DIR/sim/$sim.pid
        log=$MOTCUA_LOG_DIR/$sim-sim.log
        script=$MOTCUA_ROOT/tests/sim/${sim}_sim.py
        if motcua_pid_alive "$pidfile" "${sim}_sim.py"; then
            motcua_say "$sim simulator already running (pid $(<"$pidfile"))"
        else
            motcua_require_free_port "$port" "$sim simulator"
            motcua_say "starting the $sim simulator on 127.0.0.1:$port"
            nohup setsid /usr/bin/python3 "$script" --port "$port" \
                --config "$MOTCUA_SECRET_DIR/payment-simulators.json" >>"$log" 2>&1 </dev/null &
            echo "$!" >"$pidfile"
        fi
        for ((i = 0; i < 100; i++)); do
            curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$port/sim/ipn-log" && break
            motcua_pid_alive "$pidfile" "${sim}_sim.py" || {
                motcua_log_tail "$log"
                motcua_die "the $sim simulator exited (log: $log)"
            }
            sleep 0.1
        done
        if [[ -n ${MOTCUA_SIM_RETRY_INTERVAL_SECONDS:-} ]]; then
            curl -sf -o /dev/null --max-time 2 -X POST -H 'Content-Type: application/json' \
                --data "{\"retry_interval_seconds\": $MOTCUA_SIM_RETRY_INTERVAL_SECONDS}" \
                "http://127.0.0.1:$port/sim/control" ||
                motcua_die "the $sim simulator is not ready (log: $log)"
        fi
    done
}

motcua_simulators_stop() {
    local pidfile
    [[ -d $MOTCUA_RUN_DIR/sim ]] || return 0
    for pidfile in "$MOTCUA_RUN_DIR"/sim/*.pid; do
        [[ -e $pidfile ]] || continue
        motcua_stop_pid "$pidfile" "$(basename -- "$pidfile" .pid)_sim.py" TERM
    done
}
