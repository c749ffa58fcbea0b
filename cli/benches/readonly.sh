#!/usr/bin/env bash
# Whole-process cost of strata's read-only commands (issue 14, points 1 and 4).
#
#   cli/benches/readonly.sh [N ...]        # default: 1000 5000
#
# For each N: writes the benchmark project (N neutral migrations over 100 tables,
# ~5 operations each, models.toml equal to their state; cli/benches/support/generate.rs
# via `cargo bench --bench readonly`), migrates a SQLite database fully, then runs
#   showmigrations | migrate --plan | makemigrations --check | sqlmigrate bench N |
#   migrate (nothing to do)
# and prints per command: instructions (valgrind callgrind — independent of machine
# load, the number to compare), wall time and peak RSS (/usr/bin/time -v; noisy on a
# loaded machine). Needs valgrind and GNU time. STRATA_BIN overrides the binary
# (default target/release/strata, built here). READONLY_DIR=D keeps the migrated
# projects in D/pN and reuses them on the next run (migrating 5000 takes minutes).
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=("${@:-1000 5000}")
# shellcheck disable=SC2206
sizes=(${sizes[*]})

if [ -z "${STRATA_BIN:-}" ]; then cargo build --release -q -p strata-cli; fi
bin="${STRATA_BIN:-$PWD/target/release/strata}"

instructions() { # callgrind's total "Ir" of one run, in $dir
    local out
    out=$(mktemp)
    (cd "$dir" && valgrind --tool=callgrind --callgrind-out-file="$out" "$@") >/dev/null 2>&1 || true
    awk '/^summary:/ {print $2}' "$out"
    rm -f "$out"
}

wall_rss() { # "wall_ms rss_mb" of one run in $dir (GNU time)
    local log
    log=$(mktemp)
    (cd "$dir" && /usr/bin/time -v "$@") >/dev/null 2>"$log" || true
    awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=t[n]+(n>1?t[n-1]*60:0); ms=s*1000}
                /Maximum resident set size/ {rss=$2/1024}
                END {printf "%.0f %.1f\n", ms, rss}' "$log"
    rm -f "$log"
}

printf '| N | command | instructions (M) | wall ms | peak RSS MB |\n|---|---|---|---|---|\n'
for n in "${sizes[@]}"; do
    if [ -n "${READONLY_DIR:-}" ]; then dir="$READONLY_DIR/p$n"; else dir=$(mktemp -d); fi
    db="sqlite://$dir/bench.sqlite3"
    if [ ! -f "$dir/bench.sqlite3" ]; then
        mkdir -p "$dir"
        cargo bench -q -p strata-cli --bench readonly -- "$dir" "$n" >/dev/null
        (cd "$dir" && "$bin" --database "$db" migrate -q >/dev/null)
    fi
    commands=(
        "showmigrations"
        "migrate --plan"
        "makemigrations --check"
        "sqlmigrate bench $(printf '%04d' "$n")"
        "migrate"
    )
    for c in "${commands[@]}"; do
        # shellcheck disable=SC2086
        run=("$bin" --database "$db" $c)
        ir=$(instructions "${run[@]}")
        wall_rss "${run[@]}" >/dev/null # warm the page cache
        read -r ms rss < <(wall_rss "${run[@]}")
        printf '| %s | %s | %s | %s | %s |\n' "$n" "$c" "$(awk -v i="$ir" 'BEGIN {printf "%.0f", i / 1e6}')" "$ms" "$rss"
    done
    if [ -z "${READONLY_DIR:-}" ]; then rm -rf "$dir"; fi
done
