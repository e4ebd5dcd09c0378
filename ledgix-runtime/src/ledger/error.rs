//! [`LedgerError`]: which check failed, and the values that disagreed.

use super::merkle::MerkleError;

/// Why a ledger verification failed. Each variant names the check (LEDGER.md) and the
/// values that disagreed; hashes are lowercase hex, payloads base64url.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// A field is missing, not lowercase hex of the right length, not base64url, ...
    #[error("malformed ledger data: `{field}` {why}")]
    Malformed {
        /// Which field, e.g. `inclusion.path[2]` or `entry seq 4: event_hash`.
        field: String,
        /// What is wrong with it.
        why: String,
    },

    /// The trusted key set could not be built.
    #[error("unusable trusted keys: {0}")]
    TrustedKeys(String),

    /// A signature names a key id that is not trusted. Keys a bundle embeds are never
    /// trusted on their own.
    #[error(
        "{what} is signed with key `{kid}`, which is not a trusted key (keys embedded in a bundle are not trusted on their own)"
    )]
    UntrustedKey {
        /// What was signed.
        what: String,
        /// The key id it names.
        kid: String,
    },

    /// The bundle embeds a key under a trusted key id, but with other key bytes: a forgery
    /// attempt, or a Vault serving a key the caller does not trust.
    #[error("the bundle embeds key `{kid}` with bytes that differ from the trusted key of that id")]
    EmbeddedKeyMismatch {
        /// The key id.
        kid: String,
    },

    /// A signature algorithm other than Ed25519.
    #[error("{what} uses signature algorithm `{algorithm}`, only `Ed25519` is accepted")]
    UnsupportedAlgorithm {
        /// What was signed.
        what: String,
        /// The algorithm named.
        algorithm: String,
    },

    /// An Ed25519 signature does not verify (strictly) under the trusted key.
    #[error("the signature over {what} does not verify under trusted key `{kid}`")]
    BadSignature {
        /// What was signed.
        what: String,
        /// The key id.
        kid: String,
    },

    /// An event hash layout this verifier does not know (fail closed).
    #[error("entry seq {seq}: canonical_version {version} is not supported (1, 2 and 3 are)")]
    UnsupportedCanonicalVersion {
        /// The entry.
        seq: u64,
        /// The version it claims.
        version: u64,
    },

    /// The event hash recomputed from the event body is not the one claimed.
    #[error(
        "entry seq {seq}: event hash recomputed from the event body is {computed}, the entry claims {claimed}"
    )]
    EventHashMismatch {
        /// The entry.
        seq: u64,
        /// Recomputed (from the entry's canonical_version layout).
        computed: String,
        /// Claimed by the entry.
        claimed: String,
    },

    /// `SHA-256(0x00 || event_hash)` is not the claimed leaf hash.
    #[error(
        "entry seq {seq}: leaf hash recomputed from the event hash is {computed}, the entry claims {claimed}"
    )]
    LeafHashMismatch {
        /// The entry.
        seq: u64,
        /// Recomputed.
        computed: String,
        /// Claimed.
        claimed: String,
    },

    /// The signed receipt payload is not the one rebuilt from the entry's fields.
    #[error(
        "entry seq {seq}: the signed receipt payload {received} differs from the one rebuilt from the entry, {rebuilt}"
    )]
    ReceiptPayloadMismatch {
        /// The entry.
        seq: u64,
        /// Rebuilt (base64url).
        rebuilt: String,
        /// Received and signed (base64url).
        received: String,
    },

    /// The inclusion proof is about another event.
    #[error(
        "the inclusion proof is about another event: its {field} is {proof}, the event's is {event}"
    )]
    InclusionMismatch {
        /// `request_id`, `event_uuid`, `event_hash`, `leaf_hash` or `leaf_index`.
        field: &'static str,
        /// The event's value.
        event: String,
        /// The proof's value.
        proof: String,
    },

    /// The inclusion proof is not for its checkpoint's tree.
    #[error("the inclusion proof's {field} is {proof}, its signed checkpoint's is {checkpoint}")]
    CheckpointMismatch {
        /// `tree_size` or `root_hash`.
        field: &'static str,
        /// The proof's value.
        proof: String,
        /// The checkpoint's value.
        checkpoint: String,
    },

    /// The signed checkpoint payload is not the one rebuilt from the checkpoint's fields.
    #[error(
        "checkpoint {checkpoint_id}: the signed payload {received} differs from the one rebuilt from its fields, {rebuilt}"
    )]
    CheckpointPayloadMismatch {
        /// The checkpoint.
        checkpoint_id: u64,
        /// Rebuilt (base64url).
        rebuilt: String,
        /// Received and signed (base64url).
        received: String,
    },

    /// The checkpoint hash recomputed from the payload is not the one claimed.
    #[error(
        "checkpoint {checkpoint_id}: hash recomputed from the payload is {computed}, it claims {claimed}"
    )]
    CheckpointHashMismatch {
        /// The checkpoint.
        checkpoint_id: u64,
        /// Recomputed.
        computed: String,
        /// Claimed.
        claimed: String,
    },

    /// The consistency proof does not start at the inclusion proof's checkpoint.
    #[error(
        "the consistency proof starts at checkpoint {from_checkpoint} (hash {from_hash}), not at the inclusion proof's checkpoint {inclusion_checkpoint} (hash {inclusion_hash})"
    )]
    ConsistencyNotFromInclusion {
        /// The consistency proof's `from_checkpoint` id.
        from_checkpoint: u64,
        /// Its hash.
        from_hash: String,
        /// The inclusion proof's checkpoint id.
        inclusion_checkpoint: u64,
        /// Its hash.
        inclusion_hash: String,
    },

    /// An inclusion or consistency proof does not verify.
    #[error(transparent)]
    Merkle(#[from] MerkleError),

    /// A checkpoint does not chain to the previous one.
    #[error(
        "checkpoint chain broken at checkpoint {checkpoint_id}: its prev_checkpoint_hash is {prev:?}, the previous checkpoint's hash is {expected:?}"
    )]
    ChainBroken {
        /// The checkpoint.
        checkpoint_id: u64,
        /// What it names as previous.
        prev: String,
        /// The previous checkpoint's hash (empty before the first).
        expected: String,
    },

    /// A later checkpoint has a smaller tree.
    #[error(
        "checkpoint {checkpoint_id} has tree size {tree_size}, smaller than the previous checkpoint's {previous}"
    )]
    TreeShrank {
        /// The checkpoint.
        checkpoint_id: u64,
        /// Its tree size.
        tree_size: u64,
        /// The previous checkpoint's.
        previous: u64,
    },

    /// The same id or position twice.
    #[error("{what} {value} appears twice")]
    Duplicate {
        /// `checkpoint_id`, `seq` or `leaf_index`.
        what: &'static str,
        /// The repeated value.
        value: u64,
    },

    /// A checkpoint's root is not the tree head of the entries' leaves.
    #[error(
        "checkpoint {checkpoint_id} signs root {claimed} for tree size {tree_size}, the entries' leaves give {computed}"
    )]
    RootMismatch {
        /// The checkpoint.
        checkpoint_id: u64,
        /// Its tree size.
        tree_size: u64,
        /// Recomputed from the entries.
        computed: String,
        /// Signed.
        claimed: String,
    },

    /// An entry's `checkpoint_id` / `leaf_index` do not agree with the checkpoints.
    #[error("entry seq {seq}: {why}")]
    SealMismatch {
        /// The entry.
        seq: u64,
        /// What disagrees.
        why: String,
    },

    /// The request's decision is not sealed into the ledger yet (HTTP 409 from the Vault):
    /// not a verification failure; retry later.
    #[error("the ledger has not sealed request {request_id} yet; retry later")]
    NotSealed {
        /// The request.
        request_id: String,
    },
}
