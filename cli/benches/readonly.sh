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
# (default target/release/strata, built here). KEEP=1 keeps the projects (printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=("${@:-1000 5000}")
# shellcheck disable=SC2206
sizes=(${sizes[*]})

if [ -z "${STRATA_BIN:-}" ]; then cargo build --release -q -p strata-cli; fi
bin="${STRATA_BIN:-$PWD/target/release/strata}"

instructions() { # callgrind's total "Ir" of one run
    local out
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>&1 || true
    awk '/^summary:/ {print $2}' "$out"
    rm -f "$out"
}

wall_rss() { # "wall_ms rss_mb" of one run (GNU time)
    local log
    log=$(mktemp)
    /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
    awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=t[n]+(n>1?t[n-1]*60:0); ms=s*1000}
                /Maximum resident set size/ {rss=$2/1024}
                END {printf "%.0f %.1f", ms, rss}' "$log"
    rm -f "$log"
}

printf '| N | command | instructions (M) | wall ms | peak RSS MB |\n|---|---|---|---|---|\n'
for n in "${sizes[@]}"; do
    dir=$(mktemp -d)
    cargo bench -q -p strata-cli --bench readonly -- "$dir" "$n" >/dev/null
    db="sqlite://$dir/bench.sqlite3"
    (cd "$dir" && "$bin" --database "$db" migrate -q >/dev/null)
    commands=(
        "showmigrations"
        "migrate --plan"
        "makemigrations --check"
        "sqlmigrate bench $(printf '%04d' "$n")"
        "migrate"
    )
    for c in "${commands[@]}"; do
        # shellcheck disable=SC2086
        run=(env -C "$dir" "$bin" --database "$db" $c)
        ir=$(instructions "${run[@]}")
        wall_rss "${run[@]}" >/dev/null # warm the page cache
        read -r ms rss < <(wall_rss "${run[@]}")
        printf '| %s | %s | %.1f | %s | %s |\n' "$n" "$c" "$(echo "$ir / 1000000" | bc -l)" "$ms" "$rss"
    done
    if [ -n "${KEEP:-}" ]; then echo "kept $dir" >&2; else rm -rf "$dir"; fi
done
