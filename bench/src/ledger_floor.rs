//! The cryptographic floor of `verify_proof_bundle`: the bundle's Ed25519 verifications and
//! SHA-256s (event hash, leaf hash, checkpoint hashes, inclusion and consistency paths) on
//! bytes decoded in advance. What `verify_proof_bundle` spends beyond it is parsing the
//! hex/base64 fields, rebuilding the signed payloads byte for byte and the field checks.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use ledgix::ledger::hash::{self, EventEncoding};
use ledgix::ledger::{LedgerCheckpoint, ProofBundle, TrustedKeys, merkle};

use crate::R;
use crate::floor::hex_decode;

/// `(leaf index, tree size, path, root)` of an inclusion proof.
type Inclusion = (u64, u64, Vec<[u8; 32]>, [u8; 32]);
/// `(size1, size2, path, root1, root2)` of a consistency proof.
type Consistency = (u64, u64, Vec<[u8; 32]>, [u8; 32], [u8; 32]);

/// The cryptographic work of one bundle, decoded in advance.
pub struct CryptoFloor {
    signatures: Vec<(VerifyingKey, Signature, Vec<u8>)>,
    event_payload: Vec<u8>,
    event_hash: [u8; 32],
    checkpoint_payloads: Vec<Vec<u8>>,
    inclusion: Inclusion,
    consistency: Option<Consistency>,
}

fn h32(s: &str) -> R<[u8; 32]> {
    hex_decode(s)
        .ok_or("not hex")?
        .try_into()
        .map_err(|_| "not 32 bytes".into())
}

fn b64(s: &str) -> R<Vec<u8>> {
    Ok(URL_SAFE_NO_PAD.decode(s.trim_end_matches('='))?)
}

impl CryptoFloor {
    /// The floor of bundle `b` under `keys`.
    pub fn new(b: &ProofBundle, keys: &TrustedKeys) -> R<CryptoFloor> {
        let path = |p: &[String]| p.iter().map(|h| h32(h)).collect::<R<Vec<_>>>();
        let mut checkpoints: Vec<&LedgerCheckpoint> = vec![&b.inclusion.checkpoint];
        if let Some(c) = &b.consistency {
            checkpoints.push(&c.to_checkpoint); // from_checkpoint is the inclusion checkpoint
        }
        let mut signed = vec![(
            &b.event.receipt_key_id,
            &b.event.receipt_signature,
            &b.event.receipt_payload,
        )];
        for c in &checkpoints {
            signed.push((
                &c.signer_key_id,
                &c.checkpoint_signature,
                &c.checkpoint_payload,
            ));
        }
        let mut signatures = Vec::new();
        for (kid, sig, payload) in signed {
            let key = *keys.get(kid).ok_or("untrusted kid")?;
            let sig: [u8; 64] = b64(sig)?.try_into().map_err(|_| "signature length")?;
            signatures.push((key, Signature::from_bytes(&sig), b64(payload)?));
        }
        Ok(CryptoFloor {
            signatures,
            event_payload: hash::event_payload(&b.event, EventEncoding::PRIMARY)?,
            event_hash: h32(&b.event.event_hash)?,
            checkpoint_payloads: checkpoints
                .iter()
                .map(|c| b64(&c.checkpoint_payload))
                .collect::<R<_>>()?,
            inclusion: (
                b.inclusion.leaf_index,
                b.inclusion.tree_size,
                path(&b.inclusion.path)?,
                h32(&b.inclusion.checkpoint.root_hash)?,
            ),
            consistency: match &b.consistency {
                Some(c) => Some((
                    c.from_checkpoint.tree_size,
                    c.to_checkpoint.tree_size,
                    path(&c.path)?,
                    h32(&c.from_checkpoint.root_hash)?,
                    h32(&c.to_checkpoint.root_hash)?,
                )),
                None => None,
            },
        })
    }

    /// Runs the floor once: every signature verified, every hash computed, both paths checked.
    pub fn run(&self) -> R<()> {
        for (key, sig, payload) in &self.signatures {
            key.verify_strict(payload, sig)?;
        }
        std::hint::black_box(hash::hash_event_payload(&self.event_payload));
        let leaf = merkle::leaf_hash(&self.event_hash);
        for p in &self.checkpoint_payloads {
            std::hint::black_box(hash::checkpoint_hash(p));
        }
        let (index, size, path, root) = &self.inclusion;
        merkle::verify_inclusion(&leaf, *index, *size, path, root)?;
        if let Some((s1, s2, path, r1, r2)) = &self.consistency {
            merkle::verify_consistency(*s1, *s2, path, r1, r2)?;
        }
        Ok(())
    }

    /// Number of Ed25519 verifications.
    pub fn signatures(&self) -> usize {
        self.signatures.len()
    }

    /// Number of Merkle path hashes (inclusion plus consistency).
    pub fn path_hashes(&self) -> usize {
        self.inclusion.2.len() + self.consistency.as_ref().map_or(0, |c| c.2.len())
    }
}
