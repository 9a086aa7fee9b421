//! Every fuzz target's body over its seeds, its committed corpus and every
//! crasher ever found (`fuzz/fixtures/<target>/`): none may panic.

use std::path::Path;

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
    out.sort();
    out
}

#[test]
fn seeds_are_read_by_their_targets() {
    let seeds = fuzzing::seeds();
    for (name, body) in fuzzing::TARGETS {
        let mine: Vec<_> = seeds.iter().filter(|s| s.0 == name).collect();
        assert!(!mine.is_empty(), "{name} has seeds");
        for (_, seed, bytes) in mine {
            body(bytes);
            // A truncated or bit-flipped seed must be refused, never panic.
            for cut in [0, 1, bytes.len() / 2, bytes.len().saturating_sub(1)] {
                body(&bytes[..cut]);
            }
            let mut flipped = bytes.clone();
            for i in (0..flipped.len()).step_by(7) {
                flipped[i] ^= 0x40;
            }
            body(&flipped);
            let _ = seed;
        }
    }
}

#[test]
fn every_kept_crasher_and_corpus_file_is_read_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut read = 0;
    for (name, body) in fuzzing::TARGETS {
        for dir in [root.join("fixtures").join(name), root.join("corpus").join(name)] {
            for file in files(&dir) {
                body(&std::fs::read(&file).unwrap());
                read += 1;
            }
        }
    }
    assert!(read >= fuzzing::TARGETS.len(), "the committed corpus is there ({read} files)");
}
