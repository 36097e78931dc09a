#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian/Ubuntu machine: system packages, a virtualenv with the pinned
# packages, and (unless DATABASE_URL is set) a project-local PostGIS cluster with the shaozi database.
# Prints `export DATABASE_URL=...` lines on its last line for the Makefile to use.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PG_VERSION=15
PG_BIN="/usr/lib/postgresql/${PG_VERSION}/bin"
PG_PORT="${SHAOZI_PG_PORT:-54329}"
PG_DATA="${SHAOZI_PG_DATA:-$ROOT/.pgdata}"
PG_USER="${SHAOZI_PG_USER:-postgres}"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3.11}"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

# 1. System packages -----------------------------------------------------------------------------------
[ -f /etc/debian_version ] || die "This set-up expects Debian or Ubuntu (apt). On another system install GDAL, PostgreSQL 15 with PostGIS 3 and Python 3.11 yourself, then set DATABASE_URL=postgis://user:pass@host:port/db and run again."
command -v "$PYTHON" >/dev/null || PYTHON=python3
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' \
  || die "Python 3.11 is required (found $("$PYTHON" --version 2>&1)). Install python3.11 and python3.11-venv, or set PYTHON=/path/to/python3.11."

packages=(gdal-bin)
# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here); CJK fonts make
# the Chinese map text readable in screenshots.
if [ "${SHAOZI_WITH_BROWSER:-0}" = "1" ]; then
  packages+=(chromium fonts-noto-cjk)
fi
if [ -z "${DATABASE_URL:-}" ]; then
  packages+=("postgresql-${PG_VERSION}" "postgresql-${PG_VERSION}-postgis-3")
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null && sudo -n true 2>/dev/null && SUDO="sudo" \
      || die "Missing Debian packages: ${missing[*]}. Run as root or with passwordless sudo, or install them: sudo apt-get install ${missing[*]}"
  fi
  say "installing ${missing[*]} (apt)"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# 2. Virtualenv with the pinned packages -----------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtualenv in .venv"
  "$PYTHON" -m venv "$VENV" || die "Cannot create a virtualenv: install python3-venv (apt-get install python3.11-venv)."
fi
stamp="$VENV/.requirements.lock.sha"
want="$(sha256sum requirements.lock | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing pinned Python packages (requirements.lock)"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.lock >&2
  echo "$want" > "$stamp"
fi

# 3. Database ------------------------------------------------------------------------------------------
if [ -n "${DATABASE_URL:-}" ]; then
  say "using DATABASE_URL (no local cluster)"
  echo "export DATABASE_URL='${DATABASE_URL}'"
  exit 0
fi

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    id "$PG_USER" >/dev/null 2>&1 || die "User $PG_USER does not exist; set SHAOZI_PG_USER to an ordinary user to run PostgreSQL."
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}
[ "$(id -u)" -eq 0 ] || PG_USER="$(id -un)"

# A checkout under a private folder (mktemp -d is 0700) cannot be entered by the cluster's user: keep the cluster
# in a folder of the project's own under /var/tmp then, named after the checkout, and note where for `make db-stop`.
if [ -z "${SHAOZI_PG_DATA:-}" ] && [ "$(id -u)" -eq 0 ] && ! runuser -u "$PG_USER" -- test -x "$ROOT" 2>/dev/null; then
  PG_DATA="/var/tmp/shaozi-pgdata-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
  say "user $PG_USER cannot enter $ROOT; the cluster lives in $PG_DATA"
fi
echo "$PG_DATA" > "$ROOT/.pgdata-path"

if [ ! -f "$PG_DATA/PG_VERSION" ]; then
  say "creating PostgreSQL cluster in ${PG_DATA#$ROOT/} (user $PG_USER, port $PG_PORT)"
  mkdir -p "$PG_DATA"
  [ "$(id -u)" -eq 0 ] && chown "$PG_USER" "$PG_DATA"
  chmod 700 "$PG_DATA"
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >&2 \
    || die "initdb failed; is $PG_DATA reachable by user $PG_USER (every parent folder needs o+x)?"
  cat >> "$PG_DATA/postgresql.conf" <<CONF
# shaozi: a local development cluster that only listens on loopback
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 512MB
CONF
fi

if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
  if (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; then
    die "Port $PG_PORT is taken by another program. Free it, or choose another: SHAOZI_PG_PORT=54330 make ..."
  fi
  say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  rm -f "$PG_DATA/postmaster.pid"
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 start >&2 \
    || die "PostgreSQL did not start; see $PG_DATA/server.log"
fi

PSQL=(psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1)
if ! "${PSQL[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'shaozi'" | grep -q 1; then
  say "creating database shaozi"
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE shaozi" >&2
fi
"${PSQL[@]}" -d shaozi -c "CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS pg_trgm;" >&2
echo "export DATABASE_URL='postgis://postgres@127.0.0.1:${PG_PORT}/shaozi'"
