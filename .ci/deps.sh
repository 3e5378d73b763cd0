#!/usr/bin/env bash
# Installs what the project needs from Debian's packages, or says exactly
# what to install when it cannot (not root, no apt-get).
#   .ci/deps.sh          PostgreSQL server with PostGIS (for demo and tests)
#   .ci/deps.sh browser  the same, plus Chromium for the browser tests
# Fast when everything is there already: it only looks.
set -euo pipefail

want_browser=${1:-}
missing=()

# The PostgreSQL server binaries: Debian's /usr/lib/postgresql/N/bin.
pg_major=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
  if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
    pg_major=$(basename "$(dirname "$d")")
    break
  fi
done
if [ -z "$pg_major" ] && command -v pg_config >/dev/null 2>&1; then
  bindir=$(pg_config --bindir)
  if [ -x "$bindir/initdb" ] && [ -x "$bindir/postgres" ]; then
    pg_major=$("$bindir/postgres" --version | sed -E 's/.*\(PostgreSQL\) ([0-9]+).*/\1/')
  fi
fi
if [ -z "$pg_major" ]; then
  pg_major=${PG_MAJOR:-15}
  missing+=("postgresql-$pg_major" "postgresql-$pg_major-postgis-3")
elif [ ! -f "/usr/share/postgresql/$pg_major/extension/postgis.control" ] &&
     ! ls "$(pg_config --sharedir 2>/dev/null)/extension/postgis.control" >/dev/null 2>&1; then
  missing+=("postgresql-$pg_major-postgis-3")
fi

if [ "$want_browser" = browser ]; then
  if [ -z "${HOTSPOT_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 &&
     ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
    missing+=(chromium)
  fi
fi

if ! command -v go >/dev/null 2>&1; then
  echo "Go is not installed: install Go 1.25 or newer (the version go.mod names) (https://go.dev/doc/install)" >&2
  exit 1
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  exit 0
fi

echo "missing: ${missing[*]}" >&2
if command -v apt-get >/dev/null 2>&1; then
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
else
  echo "install PostgreSQL $pg_major with PostGIS 3 (and Chromium for the browser tests) from your system's packages," >&2
  echo "or set DATABASE_URL to a PostgreSQL server with PostGIS (HOTSPOT_TEST_DATABASE_URL for the tests)." >&2
fi
exit 1
