//! The SQLite "raw client" of `compare.sh`: a bare `sqlite3_exec` loop on the SQLite
//! library strata bundles (rusqlite's `execute_batch`), with the session settings
//! strata's driver uses, so that what it times is the SQL alone.
//!
//!   sqlite_exec version              the bundled SQLite's version
//!   sqlite_exec DB FILE...           runs each file, in order, as one batch
//!   sqlite_exec DB --query SQL       prints the first column of the first row

use rusqlite::Connection;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.as_slice() {
        [v] if v == "version" => println!("{}", rusqlite::version()),
        [db, flag, sql] if flag == "--query" => {
            let value: rusqlite::types::Value = open(db)
                .query_row(sql, [], |row| row.get(0))
                .unwrap_or_else(|e| fail(sql, &e));
            match value {
                rusqlite::types::Value::Integer(n) => println!("{n}"),
                rusqlite::types::Value::Text(t) => println!("{t}"),
                other => println!("{other:?}"),
            }
        }
        [db, files @ ..] if !files.is_empty() => {
            let conn = open(db);
            for file in files {
                let sql = std::fs::read_to_string(file).unwrap_or_else(|e| fail(file, &e));
                conn.execute_batch(&sql).unwrap_or_else(|e| fail(file, &e));
            }
        }
        _ => {
            eprintln!("usage: sqlite_exec version | DB FILE... | DB --query SQL");
            std::process::exit(2);
        }
    }
}

/// Opens (creating) the database as strata's SQLite driver does: foreign keys on, a
/// busy timeout (dialects/sqlite/src/driver/connect.rs); SQLite's defaults otherwise.
fn open(path: &str) -> Connection {
    let conn = Connection::open(path).unwrap_or_else(|e| fail(path, &e));
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .unwrap_or_else(|e| fail(path, &e));
    conn.busy_timeout(strata::sqlite::BUSY_TIMEOUT)
        .unwrap_or_else(|e| fail(path, &e));
    conn
}

fn fail(what: &str, e: &dyn std::fmt::Display) -> ! {
    eprintln!("sqlite_exec: {what}: {e}");
    std::process::exit(1);
}
