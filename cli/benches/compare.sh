#!/usr/bin/env bash
# Whole-process benchmark (issue 14): `strata migrate` against the database's own
# client running the same SQL, and against sqlx-cli and refinery_cli where they are
# installed. The in-process one stays `cargo bench -p strata-cli --bench migrate`.
#
#   cli/benches/compare.sh [N [ROUNDS [BACKENDS]]]  # default: 1000 5 "sqlite postgres mariadb"
#   cli/benches/compare.sh 30 1 "sqlite postgres"  # a quick check of the script
#
# The project: N neutral migrations over 100 tables, ~5 operations each
# (cli/benches/support/generate.rs, through `cargo bench --bench readonly`). Each
# migration's SQL, forward and inverse, is taken once from `strata sqlmigrate
# [--backwards] --dialect D --server-version V`, V the server's version (SQLite: the
# bundled library's), so every tool runs exactly the statements strata runs:
#
#   raw client (the limit)  PostgreSQL: one `psql -X -q -v ON_ERROR_STOP=1` session;
#                           MariaDB/MySQL: one `mariadb` (or `mysql`) session;
#                           SQLite: benches/sqlite_exec.rs, a bare sqlite3_exec loop
#                           on the bundled SQLite, one batch per migration. Each runs
#                           what sqlmigrate prints, its BEGIN/COMMIT included (one
#                           transaction per migration); forward in order, then the
#                           inverse SQL in reverse order. Also (SQLite, PostgreSQL)
#                           the forward SQL without those in one BEGIN/COMMIT: the
#                           limit of --single-transaction;
#   strata                  `migrate` from empty, `migrate bench zero`, and
#                           `migrate --single-transaction` (not MariaDB/MySQL: no
#                           transactional DDL);
#   sqlx-cli                `sqlx migrate run`, `sqlx migrate revert --target-version 0`
#                           (NNNN_step.up.sql / .down.sql), if `sqlx` is in PATH;
#   refinery_cli            `refinery migrate -e VAR -p DIR` (VN__step.sql), if
#                           `refinery` is in PATH. Both wrap each migration in a
#                           transaction of their own: their files hold the same SQL
#                           without its BEGIN/COMMIT lines.
#
# Each round runs every tool once per backend, in turn, starting one tool later each
# round: a fresh database, the timed process (wall clock, whole process), a check of
# the result (strata: N history rows, then none; the others: the 100 tables, then
# none), the database dropped. Prints a Markdown table: per tool the median seconds
# (min–max) and the ratio to the raw client, median (min–max) of the rounds' ratios.
#
# Environment (defaults in brackets):
#   STRATA       the binary [target/release/strata, built here]
#   PG_URL       a PostgreSQL server [postgres://postgres@127.0.0.1:5432]
#   MY_URL       a MariaDB/MySQL server [mysql://root@127.0.0.1:3306]
#   COMPARE_DIR  keep the project and the rendered SQL in COMPARE_DIR/pN and reuse
#                them next time (rendering 1000 migrations for three backends is
#                6000 sqlmigrate processes, a few minutes); delete it when strata
#                or this script changes
set -euo pipefail
shopt -s inherit_errexit

root="$(cd "$(dirname "$0")/../.." && pwd)"
if [ -n "${COMPARE_DIR:-}" ]; then COMPARE_DIR="$(realpath -m "$COMPARE_DIR")"; fi
cd "$root"
N="${1:-1000}"
ROUNDS="${2:-5}"
read -r -a BACKENDS <<<"${3:-sqlite postgres mariadb}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
MY_URL="${MY_URL:-mysql://root@127.0.0.1:3306}"
PG_URL="${PG_URL%/}"
MY_URL="${MY_URL%/}"

if [ -z "${STRATA:-}" ]; then cargo build --release -q -p strata-cli; fi
STRATA="${STRATA:-$root/target/release/strata}"
[ -x "$STRATA" ] || { echo "compare.sh: no binary $STRATA" >&2; exit 2; }

work="$(mktemp -d)"
db_name="strata_compare_$$"
if [ -n "${COMPARE_DIR:-}" ]; then keep="$COMPARE_DIR/p$N"; else keep="$work/keep"; fi
proj="$keep/project"
res="$work/results"
mkdir -p "$res" "$keep"
declare -A sql version skip

# --- clients --------------------------------------------------------------------

my_client="$(command -v mariadb || command -v mysql || true)"
my_authority="${MY_URL#mysql://}"
my_authority="${my_authority%%/*}"
my_userinfo="${my_authority%@*}"
my_addr="${my_authority#*@}"
my_user="${my_userinfo%%:*}"
if [ "$my_userinfo" != "$my_user" ]; then export MYSQL_PWD="${my_userinfo#*:}"; fi
my() { "$my_client" -u"$my_user" -h"${my_addr%:*}" -P"${my_addr##*:}" "$@"; }
pg() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$@"; }

sqlite_exec=""
if [[ " ${BACKENDS[*]} " == *" sqlite "* ]]; then
    sqlite_exec="$(cargo bench -q -p strata-cli --bench sqlite_exec --no-run --message-format=json |
        grep -o '"executable":"[^"]*sqlite_exec[^"]*"' | tail -1 | cut -d'"' -f4)"
fi

# --- per backend: its database, its queries ----------------------------------------

db_url() {
    case "$1" in
    sqlite) echo "sqlite://$work/bench.sqlite3" ;;
    postgres) echo "$PG_URL/$db_name" ;;
    mariadb) echo "$MY_URL/$db_name" ;;
    esac
}

drop_db() {
    case "$1" in
    sqlite) rm -f "$work"/bench.sqlite3* ;;
    postgres) pg "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" ;;
    mariadb) my -e "DROP DATABASE IF EXISTS $db_name" ;;
    esac
}

# A fresh, empty database (for SQLite an empty file: sqlx and refinery do not create one).
fresh_db() {
    drop_db "$1"
    case "$1" in
    sqlite) : >"$work/bench.sqlite3" ;;
    postgres) pg "$PG_URL/postgres" -c "CREATE DATABASE $db_name" ;;
    mariadb) my -e "CREATE DATABASE $db_name" ;;
    esac
}

# The first column of the first row of SQL in the benchmark's database.
query() {
    case "$1" in
    sqlite) "$sqlite_exec" "$work/bench.sqlite3" --query "$2" ;;
    postgres) pg -At "$PG_URL/$db_name" -c "$2" ;;
    mariadb) my -N "$db_name" -e "$2" ;;
    esac
}

# The migrations' tables (t000…t099) that exist.
tables() {
    case "$1" in
    sqlite) query "$1" "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 't0%'" ;;
    postgres) query "$1" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 't0%'" ;;
    mariadb) query "$1" "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 't0%'" ;;
    esac
}

history_rows() { query "$1" "SELECT count(*) FROM strata_migrations"; }

expect() { # WHAT EXPECTED ACTUAL
    if [ "$2" != "$3" ]; then
        echo "compare.sh: $1: expected $2, found $3" >&2
        exit 1
    fi
}

# The server's version, as sqlmigrate takes it, and strata's dialect for it.
version_of() {
    case "$1" in
    sqlite) "$sqlite_exec" version ;;
    postgres) pg -At "$PG_URL/postgres" -c "SHOW server_version" | cut -d' ' -f1 ;;
    mariadb) my -N -e "SELECT VERSION()" ;;
    esac
}
dialect_of() { # BACKEND VERSION
    case "$1" in
    mariadb) if [[ "$2" == *MariaDB* ]]; then echo mariadb; else echo mysql; fi ;;
    *) echo "$1" ;;
    esac
}

cleanup() {
    for backend in "${BACKENDS[@]}"; do drop_db "$backend" >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# --- the project and its SQL, made once ---------------------------------------------

if [ ! -f "$proj/strata.toml" ]; then
    cargo bench -q -p strata-cli --bench readonly -- "$proj" "$N" >/dev/null
fi
tables_expected=$((N < 100 ? N : 100))
names=()
for i in $(seq 1 "$N"); do names+=("$(printf '%04d' "$i")"); done

# Renders every migration's SQL both ways into $1/up and $1/down, then the files
# each tool reads: one script per direction for the clients (the inverse in reverse
# order), the forward one as one transaction, sqlx's and refinery's migration folders.
render() { # DIR DIALECT VERSION
    local dir="$1" dialect="$2" version="$3"
    rm -rf "$dir"
    mkdir -p "$dir/up" "$dir/down" "$dir/plain" "$dir/sqlx" "$dir/refinery"
    # The plain plan too (`safe = false`): what one transaction can hold (PostgreSQL's
    # safe plan builds indexes CONCURRENTLY, which no transaction can).
    # shellcheck disable=SC2016 # expanded by the inner shell
    printf '%s\n' "${names[@]}" | xargs -P "$(nproc)" -n 1 sh -c '
        "$1" --project "$2" sqlmigrate bench "$6" --dialect "$3" --server-version "$4" >"$5/up/$6.sql" &&
        "$1" --project "$2" sqlmigrate bench "$6" --dialect "$3" --server-version "$4" --backwards >"$5/down/$6.sql" &&
        STRATA_SAFE=false "$1" --project "$2" sqlmigrate bench "$6" --dialect "$3" --server-version "$4" >"$5/plain/$6.sql"
    ' sh "$STRATA" "$proj" "$dialect" "$version" "$dir"
    local name
    for name in "${names[@]}"; do
        cat "$dir/up/$name.sql" >>"$dir/forward.sql"
        without_transaction <"$dir/up/$name.sql" >"$dir/sqlx/${name}_step.up.sql"
        without_transaction <"$dir/down/$name.sql" >"$dir/sqlx/${name}_step.down.sql"
        cp "$dir/sqlx/${name}_step.up.sql" "$dir/refinery/V$((10#$name))__step.sql"
    done
    for ((i = ${#names[@]} - 1; i >= 0; i--)); do
        cat "$dir/down/${names[i]}.sql" >>"$dir/backward.sql"
    done
    { echo "BEGIN;"; for name in "${names[@]}"; do without_transaction <"$dir/plain/$name.sql"; done; echo "COMMIT;"; } >"$dir/one.sql"
    echo "$version" >"$dir/version"
}
without_transaction() { grep -v -x -e 'BEGIN;' -e 'COMMIT;' || true; }

for backend in "${BACKENDS[@]}"; do
    v="$(version_of "$backend")"
    version[$backend]="$v"
    sql[$backend]="$keep/sql-$backend"
    if [ "$(cat "${sql[$backend]}/version" 2>/dev/null)" != "$v" ]; then
        echo "rendering $N migrations for $backend $v..." >&2
        render "${sql[$backend]}" "$(dialect_of "$backend" "$v")" "$v"
    fi
done

# --- the tools ------------------------------------------------------------------------

# Times "$@" (whole process, wall clock; output dropped) and appends the milliseconds
# to the results of ROW; fails, showing the command's last lines, if it fails.
measure() { # ROW CMD...
    local row="$1" start end
    shift
    start=$(date +%s%N)
    if ! "$@" >/dev/null 2>"$work/stderr"; then
        echo "compare.sh: $row failed: $*" >&2
        tail -5 "$work/stderr" >&2
        return 1
    fi
    end=$(date +%s%N)
    echo $(((end - start) / 1000000)) >>"$res/$row"
}

# An optional tool that failed is left out of the later rounds; its row says so.
give_up() { # BACKEND TOOL ROW...
    local backend="$1" tool="$2"
    shift 2
    for row in "$@"; do
        rm -f "$res/$backend.$row"
        echo "failed (see stderr)" >"$res/$backend.$row.note"
    done
    skip["$backend.$tool"]=1
    drop_db "$backend"
}

raw_run() { # BACKEND DIRECTION
    local dir="${sql[$1]}"
    case "$1" in
    sqlite)
        local files=()
        if [ "$2" = up ]; then
            for name in "${names[@]}"; do files+=("$dir/up/$name.sql"); done
        else
            for ((i = ${#names[@]} - 1; i >= 0; i--)); do files+=("$dir/down/${names[i]}.sql"); done
        fi
        "$sqlite_exec" "$work/bench.sqlite3" "${files[@]}"
        ;;
    postgres)
        local file="$dir/forward.sql"
        [ "$2" = up ] || file="$dir/backward.sql"
        pg -f "$file" "$(db_url "$1")"
        ;;
    mariadb)
        local file="$dir/forward.sql"
        [ "$2" = up ] || file="$dir/backward.sql"
        my "$db_name" <"$file"
        ;;
    esac
}

# The forward SQL in one transaction: the limit of --single-transaction.
tool_raw_one() {
    local b="$1"
    fresh_db "$b"
    case "$b" in
    sqlite) measure "$b.raw_one" "$sqlite_exec" "$work/bench.sqlite3" "${sql[$b]}/one.sql" ;;
    postgres) measure "$b.raw_one" pg -f "${sql[$b]}/one.sql" "$(db_url "$b")" ;;
    esac
    expect "$b: raw client in one transaction, tables" "$tables_expected" "$(tables "$b")"
    drop_db "$b"
}

tool_raw() {
    local b="$1"
    fresh_db "$b"
    measure "$b.raw_up" raw_run "$b" up
    expect "$b: raw client, tables" "$tables_expected" "$(tables "$b")"
    measure "$b.raw_down" raw_run "$b" down
    expect "$b: raw client inverse, tables" 0 "$(tables "$b")"
    drop_db "$b"
}

# As a person runs it: its lines (to /dev/null here) cost what they cost.
strata_run() { "$STRATA" --project "$proj" --database "$(db_url "$1")" migrate "${@:2}"; }

tool_strata() {
    local b="$1"
    fresh_db "$b"
    measure "$b.strata_up" strata_run "$b"
    expect "$b: strata, history rows" "$N" "$(history_rows "$b")"
    measure "$b.strata_zero" strata_run "$b" bench zero
    expect "$b: strata zero, history rows" 0 "$(history_rows "$b")"
    expect "$b: strata zero, tables" 0 "$(tables "$b")"
    drop_db "$b"
}

tool_single() {
    local b="$1"
    fresh_db "$b"
    STRATA_SAFE=false measure "$b.strata_single" strata_run "$b" --single-transaction
    expect "$b: strata --single-transaction, history rows" "$N" "$(history_rows "$b")"
    drop_db "$b"
}

tool_sqlx() {
    local b="$1" url
    url="$(db_url "$b")"
    fresh_db "$b"
    measure "$b.sqlx_up" sqlx migrate run --source "${sql[$b]}/sqlx" --database-url "$url" ||
        { give_up "$b" sqlx sqlx_up sqlx_down; return; }
    expect "$b: sqlx, tables" "$tables_expected" "$(tables "$b")"
    if [ -n "$sqlx_reverts_all" ]; then
        measure "$b.sqlx_down" sqlx migrate revert --target-version 0 \
            --source "${sql[$b]}/sqlx" --database-url "$url" ||
            { give_up "$b" sqlx sqlx_up sqlx_down; return; }
        expect "$b: sqlx revert, tables" 0 "$(tables "$b")"
    fi
    drop_db "$b"
}

tool_refinery() {
    local b="$1"
    fresh_db "$b"
    measure "$b.refinery_up" env COMPARE_DATABASE_URL="$(db_url "$b")" \
        refinery migrate -e COMPARE_DATABASE_URL -p "${sql[$b]}/refinery" ||
        { give_up "$b" refinery refinery_up; return; }
    expect "$b: refinery, tables" "$tables_expected" "$(tables "$b")"
    drop_db "$b"
}

tools=(raw raw_one strata single)
# MariaDB and MySQL commit every DDL statement: no plan runs in one transaction.
skip[mariadb.single]=1
skip[mariadb.raw_one]=1
echo "refused: no transactional DDL" >"$res/mariadb.strata_single.note"
echo "n/a: DDL commits implicitly" >"$res/mariadb.raw_one.note"
sqlx_reverts_all=""
if command -v sqlx >/dev/null; then
    tools+=(sqlx)
    if sqlx migrate revert --help 2>/dev/null | grep -q -- --target-version; then
        sqlx_reverts_all=1
    else
        for b in "${BACKENDS[@]}"; do echo "this sqlx-cli has no --target-version" >"$res/$b.sqlx_down.note"; done
    fi
else
    for b in "${BACKENDS[@]}"; do
        for row in sqlx_up sqlx_down; do echo "not installed" >"$res/$b.$row.note"; done
    done
fi
if command -v refinery >/dev/null; then
    tools+=(refinery)
else
    for b in "${BACKENDS[@]}"; do echo "not installed" >"$res/$b.refinery_up.note"; done
fi

for round in $(seq 1 "$ROUNDS"); do
    for backend in "${BACKENDS[@]}"; do
        for ((k = 0; k < ${#tools[@]}; k++)); do
            tool="${tools[(k + round - 1) % ${#tools[@]}]}"
            [ -z "${skip[$backend.$tool]:-}" ] || continue
            echo "round $round/$ROUNDS: $backend, $tool" >&2
            "tool_$tool" "$backend"
        done
    done
done

# --- the table ------------------------------------------------------------------------

# "median min max" of the numbers on stdin.
stats() {
    sort -g | awk '{v[NR] = $1}
        END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR]}'
}

cell() { # BACKEND ROW [LIMIT_ROW]
    local file="$res/$1.$2" limit="$res/$1.${3:-}"
    if [ ! -s "$file" ]; then
        cat "$file.note" 2>/dev/null || echo "–"
        return
    fi
    local median min max
    read -r median min max < <(stats <"$file")
    awk -v m="$median" -v a="$min" -v b="$max" 'BEGIN {printf "%.2f s (%.2f–%.2f)", m / 1000, a / 1000, b / 1000}'
    if [ -n "${3:-}" ]; then
        read -r median min max < <(paste "$file" "$limit" | awk '{print $1 / $2}' | stats)
        printf ', **%.2f×** (%.2f–%.2f)' "$median" "$min" "$max"
    fi
    echo
}

label_of() {
    case "$1" in
    sqlite) echo "SQLite ${version[sqlite]}" ;;
    postgres) echo "PostgreSQL ${version[postgres]}" ;;
    mariadb) echo "$(dialect_of mariadb "${version[mariadb]}" | sed 's/mariadb/MariaDB/;s/mysql/MySQL/') ${version[mariadb]%%-*}" ;;
    esac
}

header="| $N migrations; median of $ROUNDS round(s) (min–max), ratio to the raw client |"
rule="|---|"
for b in "${BACKENDS[@]}"; do header+=" $(label_of "$b") |"; rule+="---|"; done
echo "$header"
echo "$rule"
rows=(
    "raw client, forward SQL (the limit)|raw_up|"
    "raw client, forward SQL in one transaction|raw_one|raw_up"
    "strata migrate, from empty|strata_up|raw_up"
    "strata migrate --single-transaction|strata_single|raw_up"
    "sqlx migrate run|sqlx_up|raw_up"
    "refinery migrate|refinery_up|raw_up"
    "raw client, inverse SQL (the limit)|raw_down|"
    "strata migrate bench zero|strata_zero|raw_down"
    "sqlx migrate revert --target-version 0|sqlx_down|raw_down"
)
for spec in "${rows[@]}"; do
    IFS='|' read -r label row limit <<<"$spec"
    line="| $label |"
    for b in "${BACKENDS[@]}"; do line+=" $(cell "$b" "$row" "$limit") |"; done
    echo "$line"
done
