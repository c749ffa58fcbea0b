//! Rebuilds the binary when a migration file is added (or an app folder changes):
//! `embed_migrations!` tracks the files it embeds, not the folders they are in.

fn main() {
    println!("cargo:rerun-if-changed=project");
}
