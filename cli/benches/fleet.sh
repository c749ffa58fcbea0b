#!/usr/bin/env bash
# Fleet benchmark: `strata migrate --tenants FILE --jobs J` against N sequential
# `strata migrate` processes (one per tenant, as a shell loop or a deploy script would
# run them), each tenant migrated from empty through testdata/tracker.
#
#   cargo build --release -p strata-cli
#   cli/benches/fleet.sh                      # 200 PostgreSQL schemas, 50 MariaDB databases
#   N_PG=1000 N_MY=100 JOBS="1 4 16" cli/benches/fleet.sh
#
# Tenants: PostgreSQL schemas (`?schema=tenant_i`) of one database made for the run,
# and MariaDB databases; all are dropped and made again before every measurement and
# dropped at the end. Needs the `psql` and `mysql` clients.
#
# Environment (defaults in brackets):
#   STRATA  the binary [target/release/strata]
#   PG_URL  a PostgreSQL server's admin URL [postgres://postgres@127.0.0.1:5432/postgres]
#   MY_URL  a MariaDB/MySQL server's admin URL [mysql://root@127.0.0.1:3306/mysql]
#   N_PG, N_MY  tenants on each [200, 50]; 0 skips that backend
#   JOBS    the --jobs values measured ["1 4 16"]
#
# Prints a Markdown table (seconds, wall clock, one run each) on stdout.
set -euo pipefail
# A failed tenant must stop the run, also inside $(…): a time of failures is no figure.
shopt -s inherit_errexit

root="$(cd "$(dirname "$0")/../.." && pwd)"
STRATA="${STRATA:-$root/target/release/strata}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
MY_URL="${MY_URL:-mysql://root@127.0.0.1:3306/mysql}"
N_PG="${N_PG:-200}"
N_MY="${N_MY:-50}"
JOBS="${JOBS:-1 4 16}"

[ -x "$STRATA" ] || { echo "no $STRATA: cargo build --release -p strata-cli" >&2; exit 2; }

work="$(mktemp -d)"
cp -r "$root/testdata/tracker" "$work/project"
rm -f "$work/project/db.sqlite3"
pg_db="strata_fleet_bench_$$"
my_prefix="strata_fleet_bench_$$"
pg_base="${PG_URL%/*}"
my_host="${MY_URL#mysql://}"; my_host="${my_host%%/*}"
my_user="${my_host%@*}"; my_addr="${my_host#*@}"

psql_admin() { PGOPTIONS="-c client_min_messages=warning" psql -X -q "$PG_URL" -v ON_ERROR_STOP=1 "$@" >/dev/null; }
mysql_admin() { mysql -u"$my_user" -h"${my_addr%:*}" -P"${my_addr#*:}" -e "$1"; }

pg_reset() {
  psql_admin -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" -c "CREATE DATABASE $pg_db"
}
my_reset() {
  local sql=""
  for i in $(seq 1 "$N_MY"); do
    sql+="DROP DATABASE IF EXISTS ${my_prefix}_$i; CREATE DATABASE ${my_prefix}_$i; "
  done
  mysql_admin "$sql"
}
cleanup() {
  [ "$N_PG" -gt 0 ] && psql_admin -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" || true
  if [ "$N_MY" -gt 0 ]; then
    local sql=""
    for i in $(seq 1 "$N_MY"); do sql+="DROP DATABASE IF EXISTS ${my_prefix}_$i; "; done
    mysql_admin "$sql" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

# One measurement: reset the tenants, run "$@" (after --), print the seconds.
measure() {
  local reset="$1"; shift
  "$reset"
  local start; start="$(now)"
  "$@" >/dev/null
  printf '%.2f' "$(elapsed "$start")"
}

sequential() {
  while read -r url; do
    "$STRATA" --project "$work/project" --database "$url" migrate -q </dev/null
  done <"$1"
}

fleet() {
  local file="$1" jobs="$2"
  "$STRATA" --project "$work/project" migrate -q --tenants "$file" --jobs "$jobs"
}

header="| tenants | sequential processes |"
rule="|---|---|"
for j in $JOBS; do header+=" --jobs $j |"; rule+="---|"; done
echo "$header"
echo "$rule"

run_backend() {
  local label="$1" file="$2" reset="$3"
  local row
  row="| $label | $(measure "$reset" sequential "$file") s |"
  for j in $JOBS; do
    row+=" $(measure "$reset" fleet "$file" "$j") s |"
  done
  echo "$row"
}

if [ "$N_PG" -gt 0 ]; then
  for i in $(seq 1 "$N_PG"); do echo "$pg_base/$pg_db?schema=tenant_$i"; done >"$work/pg.txt"
  run_backend "$N_PG PostgreSQL schemas (one database)" "$work/pg.txt" pg_reset
fi
if [ "$N_MY" -gt 0 ]; then
  for i in $(seq 1 "$N_MY"); do echo "mysql://$my_host/${my_prefix}_$i"; done >"$work/my.txt"
  run_backend "$N_MY MariaDB databases" "$work/my.txt" my_reset
fi
