//! Writes the seed corpus: `cargo run -p fuzzing --bin fuzz-seeds -- fuzz/corpus`.

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "fuzz/corpus".into());
    for (target, name, bytes) in fuzzing::seeds() {
        let path = std::path::Path::new(&dir).join(target);
        std::fs::create_dir_all(&path).expect("creating the corpus directory");
        std::fs::write(path.join(format!("seed-{name}")), bytes).expect("writing a seed");
    }
}
