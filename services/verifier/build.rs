//! `sqlx::migrate!` embeds the migrations at compile time but only tracks the files that
//! exist; rebuild when the folder changes so a new migration is never left out.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
