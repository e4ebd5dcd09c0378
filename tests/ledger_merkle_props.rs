//! Property tests of `ledger::merkle` on random trees of up to 4,096 leaves: honest
//! inclusion and consistency proofs verify; a single flipped bit anywhere, a truncated or
//! extended proof, an index off by one, or a tree head of a size off by one is refused.

use ledgix::ledger::merkle::{self, MerkleTree};
use proptest::prelude::*;

const MAX_LEAVES: u64 = 4096;

/// A log of `n + 1` distinct leaves (one spare leaf for the size + 1 cases).
fn log(n: u64, salt: u64) -> MerkleTree {
    let mut tree = MerkleTree::new();
    for i in 0..=n {
        tree.push(merkle::leaf_hash(
            &[i.to_be_bytes(), salt.to_be_bytes()].concat(),
        ));
    }
    tree
}

fn flip(mut h: [u8; 32], bit: usize) -> [u8; 32] {
    h[(bit / 8) % 32] ^= 1 << (bit % 8);
    h
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn inclusion_proofs_verify_and_every_tamper_is_refused(
        size in 1..=MAX_LEAVES,
        index_seed in any::<u64>(),
        salt in any::<u64>(),
        bit in 0usize..256,
        pick in any::<usize>(),
        extra in any::<[u8; 32]>(),
    ) {
        let tree = log(size, salt);
        let index = index_seed % size;
        let leaf = tree.leaf(index).unwrap();
        let root = tree.root_at(size).unwrap();
        let proof = tree.inclusion_proof(index, size).unwrap();
        prop_assert_eq!(&proof, &merkle::inclusion_proof(&(0..size).map(|i| tree.leaf(i).unwrap()).collect::<Vec<_>>(), index));
        prop_assert!(merkle::verify_inclusion(&leaf, index, size, &proof, &root).is_ok());

        // One flipped bit: in the leaf, the root, or any proof hash.
        prop_assert!(merkle::verify_inclusion(&flip(leaf, bit), index, size, &proof, &root).is_err());
        prop_assert!(merkle::verify_inclusion(&leaf, index, size, &proof, &flip(root, bit)).is_err());
        if !proof.is_empty() {
            let mut p = proof.clone();
            let k = pick % p.len();
            p[k] = flip(p[k], bit);
            prop_assert!(merkle::verify_inclusion(&leaf, index, size, &p, &root).is_err());
            // Truncated.
            prop_assert!(merkle::verify_inclusion(&leaf, index, size, &proof[..proof.len() - 1], &root).is_err());
        }
        // Extended.
        let mut p = proof.clone();
        p.push(extra);
        prop_assert!(merkle::verify_inclusion(&leaf, index, size, &p, &root).is_err());
        // Index +-1.
        prop_assert!(merkle::verify_inclusion(&leaf, index + 1, size, &proof, &root).is_err());
        if index > 0 {
            prop_assert!(merkle::verify_inclusion(&leaf, index - 1, size, &proof, &root).is_err());
        }
        // The tree head of size + 1 or size - 1 (each with its own root).
        let bigger = tree.root_at(size + 1).unwrap();
        prop_assert!(merkle::verify_inclusion(&leaf, index, size + 1, &proof, &bigger).is_err());
        if index < size - 1 {
            let smaller = tree.root_at(size - 1).unwrap();
            prop_assert!(merkle::verify_inclusion(&leaf, index, size - 1, &proof, &smaller).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_and_every_tamper_is_refused(
        size2 in 1..=MAX_LEAVES,
        size1_seed in any::<u64>(),
        salt in any::<u64>(),
        bit in 0usize..256,
        pick in any::<usize>(),
        extra in any::<[u8; 32]>(),
    ) {
        let tree = log(size2, salt);
        let size1 = size1_seed % size2 + 1;
        let root1 = tree.root_at(size1).unwrap();
        let root2 = tree.root_at(size2).unwrap();
        let proof = tree.consistency_proof(size1, size2).unwrap();
        prop_assert!(merkle::verify_consistency(size1, size2, &proof, &root1, &root2).is_ok());

        prop_assert!(merkle::verify_consistency(size1, size2, &proof, &flip(root1, bit), &root2).is_err());
        prop_assert!(merkle::verify_consistency(size1, size2, &proof, &root1, &flip(root2, bit)).is_err());
        if !proof.is_empty() {
            let mut p = proof.clone();
            let k = pick % p.len();
            p[k] = flip(p[k], bit);
            prop_assert!(merkle::verify_consistency(size1, size2, &p, &root1, &root2).is_err());
            prop_assert!(merkle::verify_consistency(size1, size2, &proof[..proof.len() - 1], &root1, &root2).is_err());
        }
        let mut p = proof.clone();
        p.push(extra);
        prop_assert!(merkle::verify_consistency(size1, size2, &p, &root1, &root2).is_err());

        // size1 +-1 and size2 +-1, each with the tree head of that size.
        let head = |n: u64| tree.root_at(n).unwrap();
        if size1 < size2 {
            prop_assert!(merkle::verify_consistency(size1 + 1, size2, &proof, &head(size1 + 1), &root2).is_err());
        }
        if size1 > 1 {
            prop_assert!(merkle::verify_consistency(size1 - 1, size2, &proof, &head(size1 - 1), &root2).is_err());
        }
        prop_assert!(merkle::verify_consistency(size1, size2 + 1, &proof, &root1, &head(size2 + 1)).is_err());
        if size2 > size1 {
            prop_assert!(merkle::verify_consistency(size1, size2 - 1, &proof, &root1, &head(size2 - 1)).is_err());
        }
        // The roots swapped.
        if size1 < size2 {
            prop_assert!(merkle::verify_consistency(size1, size2, &proof, &root2, &root1).is_err());
        }
    }

    #[test]
    fn root_of_a_slice_is_the_cached_tree_head(size in 0..=MAX_LEAVES, salt in any::<u64>()) {
        let tree = log(size, salt);
        let leaves: Vec<[u8; 32]> = (0..size).map(|i| tree.leaf(i).unwrap()).collect();
        prop_assert_eq!(merkle::root(&leaves), tree.root_at(size).unwrap());
    }

    #[test]
    fn arbitrary_sizes_and_proofs_never_panic(
        index in any::<u64>(),
        size in any::<u64>(),
        size1 in any::<u64>(),
        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..70),
        a in any::<[u8; 32]>(),
        b in any::<[u8; 32]>(),
    ) {
        let _ = merkle::verify_inclusion(&a, index, size, &proof, &b);
        let _ = merkle::verify_consistency(size1, size, &proof, &a, &b);
        let _ = merkle::verify_consistency(index % 64, size % 64, &proof, &a, &b);
        let _ = merkle::verify_inclusion(&a, index % 64, size % 64, &proof, &b);
    }
}
