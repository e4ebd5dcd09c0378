//! The transparency-dev/merkle proof corpus (tests/fixtures/rfc6962): every inclusion and
//! consistency vector must come out as its `wantErr` says.
//!
//! Hashes in the corpus that are not 32 bytes cannot be expressed as `[u8; 32]`; the
//! ledger's own parser refuses such hashes at the edge, which is how a `wantErr: true`
//! vector with one is satisfied. Exactly one `wantErr: false` vector has such hashes
//! ("sizes are equal (one) and proof is empty": two equal 12-byte roots). It is
//! unrepresentable; its logic (equal sizes, empty proof, equal roots) is checked with the
//! roots zero-padded to 32 bytes, which preserves their equality.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ledgix::ledger::merkle;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Inclusion {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Consistency {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

fn corpus(kind: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rfc6962")
        .join(kind);
    let mut out = Vec::new();
    walk(&root, &mut out);
    out.sort();
    out
}

/// Decodes a corpus hash; `None` when it is not 32 bytes (not representable).
fn hash(b64: &str) -> Option<[u8; 32]> {
    STANDARD.decode(b64).unwrap().try_into().ok()
}

fn hashes(proof: &Option<Vec<String>>) -> Option<Vec<[u8; 32]>> {
    proof.iter().flatten().map(|h| hash(h)).collect()
}

/// Reads the corpus vector in `file`.
fn vector<T: serde::de::DeserializeOwned>(file: &Path) -> T {
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

/// Asserts the vector in `file` (described as `desc`) came out as its `wantErr` says.
fn assert_as_wanted(file: &Path, desc: &str, want_err: bool, result: &Result<(), String>) {
    assert_eq!(
        result.is_err(),
        want_err,
        "{}: {desc} -> {result:?}",
        file.display()
    );
}

#[test]
fn every_inclusion_vector_comes_out_as_want_err_says() {
    let files = corpus("inclusion");
    assert_eq!(files.len(), 98, "the corpus has 98 inclusion vectors");
    let (mut verified, mut unrepresentable) = (0, 0);
    for file in &files {
        let v: Inclusion = vector(file);
        let parsed = (hash(&v.leaf_hash), hash(&v.root), hashes(&v.proof));
        let result = match parsed {
            (Some(leaf), Some(root), Some(proof)) => {
                verified += 1;
                merkle::verify_inclusion(&leaf, v.leaf_idx, v.tree_size, &proof, &root)
                    .map_err(|e| e.to_string())
            }
            _ => {
                unrepresentable += 1;
                Err("a hash is not 32 bytes".to_owned())
            }
        };
        assert_as_wanted(file, &v.desc, v.want_err, &result);
    }
    assert_eq!(
        (verified, unrepresentable),
        (72, 26),
        "verified by the Merkle code, refused at parse"
    );
}

#[test]
fn every_consistency_vector_comes_out_as_want_err_says() {
    let files = corpus("consistency");
    assert_eq!(files.len(), 98, "the corpus has 98 consistency vectors");
    let mut unrepresentable_valid = Vec::new();
    let mut verified = 0;
    for file in &files {
        let v: Consistency = vector(file);
        let parsed = (hash(&v.root1), hash(&v.root2), hashes(&v.proof));
        let result = match parsed {
            (Some(root1), Some(root2), Some(proof)) => {
                verified += 1;
                merkle::verify_consistency(v.size1, v.size2, &proof, &root1, &root2)
                    .map_err(|e| e.to_string())
            }
            _ if !v.want_err => {
                unrepresentable_valid.push(v);
                continue;
            }
            _ => Err("a hash is not 32 bytes".to_owned()),
        };
        assert_as_wanted(file, &v.desc, v.want_err, &result);
    }
    assert_eq!(verified, 71, "vectors whose hashes are all 32 bytes");

    // The one unrepresentable valid vector: two equal 12-byte roots at equal sizes.
    assert_eq!(unrepresentable_valid.len(), 1);
    let v = &unrepresentable_valid[0];
    assert_eq!(v.desc, "sizes are equal (one) and proof is empty");
    let pad = |b64: &str| {
        let raw = STANDARD.decode(b64).unwrap();
        assert_eq!(raw.len(), 12);
        let mut out = [0u8; 32];
        out[..12].copy_from_slice(&raw);
        out
    };
    let proof = hashes(&v.proof).unwrap();
    merkle::verify_consistency(v.size1, v.size2, &proof, &pad(&v.root1), &pad(&v.root2)).unwrap();
}
