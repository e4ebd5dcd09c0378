//! RFC 6962 / RFC 9162 Merkle trees over SHA-256: leaf and node hashes, tree heads,
//! inclusion and consistency proofs (verification exactly as RFC 9162 §2.1.3.2 and §2.1.4.2,
//! and generation as RFC 6962 §2.1.1 and §2.1.2).
//!
//! Hashes are `[u8; 32]`, sizes and indices `u64`. Verification is pure, allocation-free and
//! never panics: every size comes from untrusted input and is handled with checked
//! arithmetic, and a proof longer than [`MAX_PROOF_LEN`] hashes is refused before any work.
//!
//! ```
//! use ledgix_runtime::ledger::merkle;
//!
//! let leaves: Vec<[u8; 32]> = (0u8..5).map(|i| merkle::leaf_hash(&[i])).collect();
//! let root = merkle::root(&leaves);
//! let proof = merkle::inclusion_proof(&leaves, 3);
//! merkle::verify_inclusion(&leaves[3], 3, 5, &proof, &root).unwrap();
//!
//! let old_root = merkle::root(&leaves[..2]);
//! let proof = merkle::consistency_proof(&leaves, 2);
//! merkle::verify_consistency(2, 5, &proof, &old_root, &root).unwrap();
//! ```

use std::fmt;

use sha2::{Digest, Sha256};

/// The longest proof accepted: a tree of 2^64 leaves needs at most 64 hashes.
pub const MAX_PROOF_LEN: usize = 64;

/// Why a Merkle proof was refused. Hashes are shown as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not inside a tree of size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// The proof has more hashes than any tree can need.
    #[error("proof has {len} hashes, more than the {max} any tree can need")]
    ProofTooLong {
        /// Hashes in the proof.
        len: usize,
        /// [`MAX_PROOF_LEN`].
        max: usize,
    },
    /// The proof has missing or leftover hashes for these sizes.
    #[error("proof has {got} hashes, these sizes need exactly {expected}")]
    WrongProofLength {
        /// Hashes the sizes require.
        expected: usize,
        /// Hashes in the proof.
        got: usize,
    },
    /// The root recomputed from an inclusion proof is not the claimed root.
    #[error("inclusion proof leads to root {}, the tree head says {}", Hex(.computed), Hex(.expected))]
    InclusionRootMismatch {
        /// Root recomputed from the leaf and the proof.
        computed: [u8; 32],
        /// The root the proof was checked against.
        expected: [u8; 32],
    },
    /// A consistency proof from an empty tree (RFC 9162: the first size must be positive).
    #[error("consistency proof from an empty tree (size1 = 0) proves nothing")]
    EmptyFirstTree,
    /// The first tree is larger than the second.
    #[error("consistency proof from size {size1} to the smaller size {size2}")]
    SizesOutOfOrder {
        /// Size of the first (older) tree.
        size1: u64,
        /// Size of the second (newer) tree.
        size2: u64,
    },
    /// A root recomputed from a consistency proof is not the claimed one.
    #[error("consistency proof leads to {which} root {}, the tree head says {}", Hex(.computed), Hex(.expected))]
    ConsistencyRootMismatch {
        /// `"first"` or `"second"`.
        which: &'static str,
        /// Root recomputed from the proof.
        computed: [u8; 32],
        /// The root the proof was checked against.
        expected: [u8; 32],
    },
}

/// Displays a hash as lowercase hex.
struct Hex<'a>(&'a [u8; 32]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// `SHA-256(0x00 || data)`: the hash of a leaf. The ledger's leaves are event hashes.
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update([0x00])
        .chain_update(data)
        .finalize()
        .into()
}

/// `SHA-256(0x01 || l || r)`: the hash of an inner node.
pub fn node_hash(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update([0x01])
        .chain_update(l)
        .chain_update(r)
        .finalize()
        .into()
}

/// The tree head (RFC 6962 `MTH`) of these leaf hashes; `SHA-256("")` for no leaves.
///
/// O(n) hashes, O(log n) memory.
pub fn root(leaf_hashes: &[[u8; 32]]) -> [u8; 32] {
    // A stack of perfect subtrees of strictly decreasing height, as in an append-only log.
    let mut stack: Vec<(u32, [u8; 32])> = Vec::new();
    for leaf in leaf_hashes {
        let mut node = (0u32, *leaf);
        while let Some(&(height, left)) = stack.last() {
            if height != node.0 {
                break;
            }
            stack.pop();
            node = (height + 1, node_hash(&left, &node.1));
        }
        stack.push(node);
    }
    // The unbalanced right edge folds from the smallest subtree up.
    let mut acc: Option<[u8; 32]> = None;
    while let Some((_, left)) = stack.pop() {
        acc = Some(match acc {
            None => left,
            Some(right) => node_hash(&left, &right),
        });
    }
    acc.unwrap_or_else(|| Sha256::digest([]).into())
}

/// Verifies that `leaf_hash` is the leaf at `index` of the tree of `size` leaves whose head
/// is `root` (RFC 9162 §2.1.3.2): `index < size`, exactly the hashes the position needs.
pub fn verify_inclusion(
    leaf_hash: &[u8; 32],
    index: u64,
    size: u64,
    proof: &[[u8; 32]],
    root: &[u8; 32],
) -> Result<(), MerkleError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(MerkleError::ProofTooLong {
            len: proof.len(),
            max: MAX_PROOF_LEN,
        });
    }
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose_inclusion(index, size);
    check_len(proof.len(), inner + border)?;
    let (inner_path, border_path) = proof.split_at(inner);
    let computed = chain_border_right(chain_inner(*leaf_hash, inner_path, index), border_path);
    if computed != *root {
        return Err(MerkleError::InclusionRootMismatch {
            computed,
            expected: *root,
        });
    }
    Ok(())
}

/// Verifies that the tree of `size2` leaves with head `root2` extends the tree of `size1`
/// leaves with head `root1` (RFC 9162 §2.1.4.2): `0 < size1 <= size2`, an empty proof and
/// equal roots when the sizes are equal, otherwise exactly the hashes the sizes need.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[[u8; 32]],
    root1: &[u8; 32],
    root2: &[u8; 32],
) -> Result<(), MerkleError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(MerkleError::ProofTooLong {
            len: proof.len(),
            max: MAX_PROOF_LEN,
        });
    }
    if size1 == 0 {
        return Err(MerkleError::EmptyFirstTree);
    }
    if size1 > size2 {
        return Err(MerkleError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == size2 {
        check_len(proof.len(), 0)?;
        if root1 != root2 {
            return Err(MerkleError::ConsistencyRootMismatch {
                which: "second",
                computed: *root1,
                expected: *root2,
            });
        }
        return Ok(());
    }
    // size1 < size2 from here, so size1 - 1 < size2 - 1 and `shift < inner`.
    let (inner, border) = decompose_inclusion(size1 - 1, size2);
    let shift = size1.trailing_zeros() as usize;
    let inner = inner.saturating_sub(shift);
    // The proof starts with the head of the perfect subtree of size 2^shift that ends the
    // first tree, unless the first tree is that very subtree.
    let (seed, rest) = if size1.is_power_of_two() {
        (*root1, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => {
                return Err(MerkleError::WrongProofLength {
                    expected: 1 + inner + border,
                    got: 0,
                });
            }
        }
    };
    let start = proof.len() - rest.len();
    check_len(proof.len(), start + inner + border)?;
    let (inner_path, border_path) = rest.split_at(inner);
    let mask = (size1 - 1) >> shift;

    let first = chain_border_right(chain_inner_right(seed, inner_path, mask), border_path);
    if first != *root1 {
        return Err(MerkleError::ConsistencyRootMismatch {
            which: "first",
            computed: first,
            expected: *root1,
        });
    }
    let second = chain_border_right(chain_inner(seed, inner_path, mask), border_path);
    if second != *root2 {
        return Err(MerkleError::ConsistencyRootMismatch {
            which: "second",
            computed: second,
            expected: *root2,
        });
    }
    Ok(())
}

/// The inclusion proof (RFC 6962 `PATH`) of the leaf at `index` in the tree made of all of
/// `leaf_hashes`. Empty when `index` is not inside the tree. O(n) hashes; use [`MerkleTree`]
/// to prove repeatedly over a large log.
pub fn inclusion_proof(leaf_hashes: &[[u8; 32]], index: u64) -> Vec<[u8; 32]> {
    let size = leaf_hashes.len() as u64;
    if index >= size {
        return Vec::new();
    }
    let mut proof = Vec::new();
    match path(
        &|a, b| slice_range(leaf_hashes, a, b),
        index,
        0,
        size,
        &mut proof,
    ) {
        Some(()) => proof,
        None => Vec::new(),
    }
}

/// The consistency proof (RFC 6962 `PROOF`) from the tree of the first `size1` leaves to
/// the tree made of all of `leaf_hashes`. Empty when `size1` is 0, not smaller than the
/// tree, or larger than it. O(n) hashes; use [`MerkleTree`] to prove repeatedly.
pub fn consistency_proof(leaf_hashes: &[[u8; 32]], size1: u64) -> Vec<[u8; 32]> {
    let size2 = leaf_hashes.len() as u64;
    if size1 == 0 || size1 >= size2 {
        return Vec::new();
    }
    let mut proof = Vec::new();
    match subproof(
        &|a, b| slice_range(leaf_hashes, a, b),
        size1,
        0,
        size2,
        true,
        &mut proof,
    ) {
        Some(()) => proof,
        None => Vec::new(),
    }
}

/// An append-only Merkle log that keeps the head of every perfect subtree, so tree heads
/// and proofs at any past size cost O(log n) hashes (O(log² n) for a past, unbalanced size).
///
/// This is what a log writer (the mock Vault) uses: append leaves as events are sealed, then
/// answer inclusion and consistency queries for any checkpoint's size.
///
/// ```
/// use ledgix_runtime::ledger::merkle::{self, MerkleTree};
///
/// let mut tree = MerkleTree::new();
/// for i in 0u8..10 {
///     tree.push(merkle::leaf_hash(&[i]));
/// }
/// let root7 = tree.root_at(7).unwrap();
/// let proof = tree.inclusion_proof(4, 7).unwrap();
/// merkle::verify_inclusion(&merkle::leaf_hash(&[4]), 4, 7, &proof, &root7).unwrap();
/// let proof = tree.consistency_proof(7, 10).unwrap();
/// merkle::verify_consistency(7, 10, &proof, &root7, &tree.root()).unwrap();
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MerkleTree {
    /// `levels[h][j]` is the head of the perfect subtree of leaves `[j·2^h, (j+1)·2^h)`.
    levels: Vec<Vec<[u8; 32]>>,
}

impl MerkleTree {
    /// An empty log.
    pub fn new() -> Self {
        MerkleTree::default()
    }

    /// A log holding these leaf hashes, in order.
    pub fn from_leaves(leaf_hashes: &[[u8; 32]]) -> Self {
        let mut tree = MerkleTree::new();
        for leaf in leaf_hashes {
            tree.push(*leaf);
        }
        tree
    }

    /// Appends a leaf hash (already `leaf_hash`ed). Amortized O(1).
    pub fn push(&mut self, leaf_hash: [u8; 32]) {
        let mut node = leaf_hash;
        let mut height = 0;
        loop {
            if self.levels.len() <= height {
                self.levels.push(Vec::new());
            }
            let Some(level) = self.levels.get_mut(height) else {
                return;
            };
            level.push(node);
            if !level.len().is_multiple_of(2) {
                return;
            }
            let (Some(right), Some(left)) = (level.last(), level.iter().rev().nth(1)) else {
                return;
            };
            node = node_hash(left, right);
            height += 1;
        }
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// True when the log has no leaf.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Option<[u8; 32]> {
        let index = usize::try_from(index).ok()?;
        self.levels.first()?.get(index).copied()
    }

    /// The current tree head.
    pub fn root(&self) -> [u8; 32] {
        self.root_at(self.len())
            .unwrap_or_else(|| Sha256::digest([]).into())
    }

    /// The tree head when the log had `size` leaves; `None` when `size` is larger than the
    /// log. `SHA-256("")` for size 0.
    pub fn root_at(&self, size: u64) -> Option<[u8; 32]> {
        if size > self.len() {
            return None;
        }
        if size == 0 {
            return Some(Sha256::digest([]).into());
        }
        self.range(0, size)
    }

    /// The inclusion proof of the leaf at `index` in the tree of the first `size` leaves;
    /// `None` unless `index < size <= len`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Option<Vec<[u8; 32]>> {
        if index >= size || size > self.len() {
            return None;
        }
        let mut proof = Vec::new();
        path(&|a, b| self.range(a, b), index, 0, size, &mut proof)?;
        Some(proof)
    }

    /// The consistency proof from the tree of `size1` leaves to the tree of `size2` leaves;
    /// `None` unless `0 < size1 <= size2 <= len` (empty when the sizes are equal).
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Option<Vec<[u8; 32]>> {
        if size1 == 0 || size1 > size2 || size2 > self.len() {
            return None;
        }
        let mut proof = Vec::new();
        if size1 < size2 {
            subproof(&|a, b| self.range(a, b), size1, 0, size2, true, &mut proof)?;
        }
        Some(proof)
    }

    /// `MTH(D[start..end])` for a range the RFC recursion produces (its left parts are
    /// perfect, aligned subtrees, read from the cache).
    fn range(&self, start: u64, end: u64) -> Option<[u8; 32]> {
        let n = end.checked_sub(start)?;
        if n == 0 {
            return None;
        }
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let height = n.trailing_zeros() as usize;
            let index = usize::try_from(start >> height).ok()?;
            return self.levels.get(height)?.get(index).copied();
        }
        let k = split_point(n);
        let mid = start.checked_add(k)?;
        Some(node_hash(&self.range(start, mid)?, &self.range(mid, end)?))
    }
}

/// RFC 6962 `PATH(m, D[start..end])`, appended bottom-up to `out`.
fn path(
    mth: &dyn Fn(u64, u64) -> Option<[u8; 32]>,
    m: u64,
    start: u64,
    end: u64,
    out: &mut Vec<[u8; 32]>,
) -> Option<()> {
    let n = end.checked_sub(start)?;
    if n <= 1 {
        return Some(());
    }
    let k = split_point(n);
    let mid = start.checked_add(k)?;
    if m < k {
        path(mth, m, start, mid, out)?;
        out.push(mth(mid, end)?);
    } else {
        path(mth, m - k, mid, end, out)?;
        out.push(mth(start, mid)?);
    }
    Some(())
}

/// RFC 6962 `SUBPROOF(m, D[start..end], b)`, appended bottom-up to `out`.
fn subproof(
    mth: &dyn Fn(u64, u64) -> Option<[u8; 32]>,
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    out: &mut Vec<[u8; 32]>,
) -> Option<()> {
    let n = end.checked_sub(start)?;
    if m == n {
        if !whole {
            out.push(mth(start, end)?);
        }
        return Some(());
    }
    let k = split_point(n);
    let mid = start.checked_add(k)?;
    if m <= k {
        subproof(mth, m, start, mid, whole, out)?;
        out.push(mth(mid, end)?);
    } else {
        subproof(mth, m - k, mid, end, false, out)?;
        out.push(mth(start, mid)?);
    }
    Some(())
}

/// `MTH` of a sub-slice, computed from scratch.
fn slice_range(leaves: &[[u8; 32]], start: u64, end: u64) -> Option<[u8; 32]> {
    let start = usize::try_from(start).ok()?;
    let end = usize::try_from(end).ok()?;
    leaves.get(start..end).filter(|s| !s.is_empty()).map(root)
}

/// The largest power of two smaller than `n` (for `n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    // n >= 2, so n - 1 >= 1 and the shift is at most 63.
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Splits the inclusion proof of `index` in a tree of `size` into the hashes below the
/// point where the paths of `index` and `size - 1` meet (`inner`) and the ones on the
/// right border above it (`border`). Requires `index < size`.
fn decompose_inclusion(index: u64, size: u64) -> (usize, usize) {
    let last = size.saturating_sub(1);
    let inner = (64 - (index ^ last).leading_zeros()) as usize;
    let border = index.checked_shr(inner as u32).unwrap_or(0).count_ones() as usize;
    (inner, border)
}

fn check_len(got: usize, expected: usize) -> Result<(), MerkleError> {
    if got != expected {
        return Err(MerkleError::WrongProofLength { expected, got });
    }
    Ok(())
}

/// Chains the inner proof hashes: the sibling goes right where the index bit is 0.
fn chain_inner(seed: [u8; 32], proof: &[[u8; 32]], index: u64) -> [u8; 32] {
    proof.iter().enumerate().fold(seed, |acc, (i, h)| {
        if index.checked_shr(i as u32).unwrap_or(0) & 1 == 0 {
            node_hash(&acc, h)
        } else {
            node_hash(h, &acc)
        }
    })
}

/// Chains only the inner hashes that are left siblings (where the index bit is 1).
fn chain_inner_right(seed: [u8; 32], proof: &[[u8; 32]], index: u64) -> [u8; 32] {
    proof.iter().enumerate().fold(seed, |acc, (i, h)| {
        if index.checked_shr(i as u32).unwrap_or(0) & 1 == 1 {
            node_hash(h, &acc)
        } else {
            acc
        }
    })
}

/// Chains the border hashes, all left siblings.
fn chain_border_right(seed: [u8; 32], proof: &[[u8; 32]]) -> [u8; 32] {
    proof.iter().fold(seed, |acc, h| node_hash(h, &acc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<[u8; 32]> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// RFC 6962 MTH by its recursive definition, to check the iterative one against.
    fn mth(d: &[[u8; 32]]) -> [u8; 32] {
        match d.len() {
            0 => Sha256::digest([]).into(),
            1 => d[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&mth(&d[..k]), &mth(&d[k..]))
            }
        }
    }

    #[test]
    fn empty_tree_head_is_sha256_of_nothing() {
        assert_eq!(
            crate::hex::encode(root(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(MerkleTree::new().root(), root(&[]));
    }

    #[test]
    fn root_matches_the_recursive_definition_and_the_cached_tree() {
        let all = leaves(70);
        let tree = MerkleTree::from_leaves(&all);
        for n in 0..=70 {
            let expected = mth(&all[..n]);
            assert_eq!(root(&all[..n]), expected, "size {n}");
            assert_eq!(tree.root_at(n as u64), Some(expected), "size {n}");
        }
        assert_eq!(tree.root_at(71), None);
    }

    #[test]
    fn every_proof_of_small_trees_verifies_and_matches_between_slice_and_tree() {
        let all = leaves(40);
        let tree = MerkleTree::from_leaves(&all);
        for size in 1..=40u64 {
            let d = &all[..size as usize];
            let r = root(d);
            for index in 0..size {
                let p = inclusion_proof(d, index);
                assert_eq!(tree.inclusion_proof(index, size).as_ref(), Some(&p));
                verify_inclusion(&d[index as usize], index, size, &p, &r).unwrap();
            }
            for size1 in 1..=size {
                let p = tree.consistency_proof(size1, size).unwrap();
                if size1 < size {
                    assert_eq!(consistency_proof(d, size1), p);
                } else {
                    assert!(p.is_empty());
                }
                verify_consistency(size1, size, &p, &root(&all[..size1 as usize]), &r).unwrap();
            }
        }
    }

    #[test]
    fn out_of_range_generation_is_empty_not_a_panic() {
        let all = leaves(4);
        assert!(inclusion_proof(&all, 4).is_empty());
        assert!(consistency_proof(&all, 0).is_empty());
        assert!(consistency_proof(&all, 4).is_empty());
        assert!(consistency_proof(&all, 9).is_empty());
        let tree = MerkleTree::from_leaves(&all);
        assert_eq!(tree.inclusion_proof(4, 4), None);
        assert_eq!(tree.inclusion_proof(0, 5), None);
        assert_eq!(tree.consistency_proof(0, 4), None);
        assert_eq!(tree.consistency_proof(3, 2), None);
        assert_eq!(tree.leaf(3), Some(all[3]));
        assert_eq!(tree.leaf(u64::MAX), None);
    }

    #[test]
    fn extreme_sizes_are_errors_not_panics() {
        let h = [7u8; 32];
        let long = vec![h; 65];
        assert!(matches!(
            verify_inclusion(&h, 0, u64::MAX, &long, &h),
            Err(MerkleError::ProofTooLong { len: 65, .. })
        ));
        assert!(verify_inclusion(&h, u64::MAX - 1, u64::MAX, &[h; 64], &h).is_err());
        assert!(verify_inclusion(&h, u64::MAX, u64::MAX, &[], &h).is_err());
        assert!(verify_inclusion(&h, 0, 0, &[], &h).is_err());
        assert!(verify_consistency(u64::MAX - 1, u64::MAX, &[h; 64], &h, &h).is_err());
        assert!(verify_consistency(1 << 63, u64::MAX, &[h; 63], &h, &h).is_err());
        assert!(verify_consistency(3, u64::MAX, &[], &h, &h).is_err());
        assert_eq!(
            verify_consistency(0, 0, &[], &h, &h),
            Err(MerkleError::EmptyFirstTree)
        );
        assert_eq!(
            verify_consistency(2, 1, &[], &h, &h),
            Err(MerkleError::SizesOutOfOrder { size1: 2, size2: 1 })
        );
    }

    #[test]
    fn equal_sizes_need_an_empty_proof_and_equal_roots() {
        let a = [1u8; 32];
        let b = [2u8; 32];
        verify_consistency(5, 5, &[], &a, &a).unwrap();
        assert!(verify_consistency(5, 5, &[a], &a, &a).is_err());
        assert!(verify_consistency(5, 5, &[], &a, &b).is_err());
    }

    #[test]
    fn errors_name_the_hashes_in_hex() {
        let all = leaves(3);
        let r = root(&all);
        let p = inclusion_proof(&all, 1);
        let err = verify_inclusion(&all[1], 1, 3, &p, &[0; 32]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&crate::hex::encode(r)), "{text}");
        assert!(text.contains(&"00".repeat(32)), "{text}");
        let err = verify_inclusion(&all[1], 1, 3, &p[..1], &r).unwrap_err();
        assert_eq!(
            err,
            MerkleError::WrongProofLength {
                expected: 2,
                got: 1
            }
        );
    }
}
