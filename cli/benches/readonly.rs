//! Writes the benchmark project of issue 14 for `readonly.sh` (whole-process timings):
//! `cargo bench -p strata-cli --bench readonly -- DIR N` fills DIR with N migrations
//! over 100 tables and a `models.toml` equal to their state.

#[path = "support/generate.rs"]
mod generate;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [dir, n] = args.as_slice() else {
        eprintln!("usage: readonly DIR N");
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("N: a number of migrations");
    let root = std::path::Path::new(dir);
    let operations = generate::generate(root, n);
    generate::write_models(root);
    println!(
        "{}: {n} migrations, {operations} operations over {} tables",
        root.display(),
        generate::TABLES
    );
}
