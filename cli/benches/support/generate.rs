//! The benchmark project of issue 14: `N` neutral migrations over 100 tables, about five
//! operations each, in one app `bench` — shared by the in-process benchmark (`migrate`)
//! and the whole-process one (`readonly`, driven by `readonly.sh`).

use std::collections::BTreeMap;
use std::path::Path;

use strata_engine::graph::Graph;
use strata_engine::project::{Overrides, Project};

pub(crate) const TABLES: usize = 100;

/// Writes `strata.toml` and `migrations` migrations under `root`; returns the number of
/// operations. The first 100 create a table and an index each; every later one adds,
/// indexes, unindexes, renames and drops a column of one table.
pub(crate) fn generate(root: &Path, migrations: usize) -> usize {
    let dir = root.join("apps/bench/migrations");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(root.join("strata.toml"), "[project]\napps = [\"bench\"]\n").unwrap();
    let mut count = 0;
    let mut previous: Option<String> = None;
    for n in 1..=migrations {
        let name = format!("{n:04}_step");
        let mut text = match &previous {
            Some(p) => format!("dependencies = [\"bench.{p}\"]\n"),
            None => String::new(),
        };
        let ops = if n <= TABLES {
            let t = n - 1;
            vec![
                format!(
                    "kind = \"create_table\"\nname = \"t{t:03}\"\nprimary_key = [\"id\"]\ncolumns = [{{ name = \"id\", type = \"bigint\", auto = true }}, {{ name = \"a\", type = \"varchar(50)\" }}, {{ name = \"b\", type = \"int\", default = 0 }}]"
                ),
                format!("kind = \"create_index\"\ntable = \"t{t:03}\"\nindex = {{ name = \"t{t:03}_a_idx\", columns = [\"a\"] }}"),
            ]
        } else {
            let t = format!("t{:03}", n % TABLES);
            vec![
                format!("kind = \"add_column\"\ntable = \"{t}\"\ncolumn = {{ name = \"c{n}\", type = \"int\", null = true }}"),
                format!("kind = \"create_index\"\ntable = \"{t}\"\nindex = {{ name = \"{t}_c{n}_idx\", columns = [\"c{n}\"] }}"),
                format!("kind = \"drop_index\"\ntable = \"{t}\"\nname = \"{t}_c{n}_idx\""),
                format!("kind = \"rename_column\"\ntable = \"{t}\"\nfrom = \"c{n}\"\nto = \"r{n}\""),
                format!("kind = \"drop_column\"\ntable = \"{t}\"\ncolumn = \"r{n}\""),
            ]
        };
        for op in &ops {
            text.push_str("\n[[operations]]\n");
            text.push_str(op);
            text.push('\n');
        }
        count += ops.len();
        std::fs::write(dir.join(format!("{name}.toml")), text).unwrap();
        previous = Some(name);
    }
    count
}

/// Writes `apps/bench/models.toml` equal to the state the migrations leave, so that
/// `makemigrations --check` finds nothing to do.
pub(crate) fn write_models(root: &Path) {
    let project = Project::load(root, &Overrides::default()).unwrap();
    let graph = Graph::from_project(&project).unwrap();
    let state = strata_engine::makemigrations::migrations_state(&graph).unwrap();
    let tables: Vec<_> = state
        .tables
        .values()
        .map(|t| strata_engine::ast::TableDef::clone(t))
        .collect();
    let text = strata_engine::models::write_app("bench", &tables, &state, &BTreeMap::new());
    std::fs::write(root.join("apps/bench/models.toml"), text).unwrap();
}
