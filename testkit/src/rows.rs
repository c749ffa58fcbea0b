//! Big tables made fast, in one statement per dialect, for the backfill tests and the
//! backfill benchmark: `rows` rows numbered 1..=rows with a counter `n = 0`.

/// A migration file creating the counter table `items (id bigint primary key, n int)`,
/// as `apps/jobs/migrations/0001_items.toml`.
pub const COUNTER_TABLE_MIGRATION: &str = r#"[[operations]]
kind = "create_table"
name = "items"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint" }, { name = "n", type = "int" }]
"#;

/// How to fill a table `(id, n)` with `rows` rows: the `INSERT`, then (to run as a
/// query: MySQL's `ANALYZE TABLE` answers with rows) the statement that refreshes the
/// statistics a backfill estimates its total from, where the dialect needs one.
pub struct CounterRows {
    pub insert: String,
    pub analyze: Option<String>,
}

/// For the dialect named `dialect` (`sqlite`, `postgres`, `mysql`, which MariaDB uses
/// too): SQLite counts with a recursive CTE, PostgreSQL with `generate_series`,
/// MySQL and MariaDB with a cross join of digits (both servers, no sequence engine).
pub fn counter_rows(dialect: &str, table: &str, rows: u64) -> CounterRows {
    match dialect {
        "sqlite" => CounterRows {
            insert: format!(
                "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {rows}) \
                 INSERT INTO {table} (id, n) SELECT i, 0 FROM s"
            ),
            analyze: None,
        },
        "postgres" => CounterRows {
            insert: format!(
                "INSERT INTO {table} (id, n) SELECT g, 0 FROM generate_series(1, {rows}) AS g"
            ),
            analyze: Some(format!("ANALYZE {table}")),
        },
        _ => {
            let digits = "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 \
                 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 \
                 UNION ALL SELECT 8 UNION ALL SELECT 9)";
            // Enough places for the largest id less one: a million rows need six digits.
            let places = (rows.max(1) - 1).to_string().len();
            let mut sum = Vec::new();
            let mut from = Vec::new();
            for place in 0..places {
                sum.push(format!("{}d{place}.d", "10 * ".repeat(place)));
                from.push(format!("{digits} AS d{place}"));
            }
            CounterRows {
                insert: format!(
                    "INSERT INTO {table} (id, n) SELECT i, 0 FROM \
                     (SELECT {} + 1 AS i FROM {}) AS s WHERE i <= {rows}",
                    sum.join(" + "),
                    from.join(" CROSS JOIN ")
                ),
                analyze: Some(format!("ANALYZE TABLE {table}")),
            }
        }
    }
}
