//! Turning wire strings into typed values once, at the edge, with errors naming the field.

use super::LedgerError;
use super::merkle::{MAX_PROOF_LEN, MerkleError};
use crate::b64;

/// A SHA-256 hash as the ledger writes it: exactly 64 lowercase hex characters.
pub(crate) fn parse_hash(field: &str, s: &str) -> Result<[u8; 32], LedgerError> {
    let malformed = |why: String| LedgerError::Malformed {
        field: field.to_owned(),
        why,
    };
    if s.len() != 64 {
        return Err(malformed(format!(
            "is {} bytes long, a hash is 64 lowercase hex characters",
            s.len()
        )));
    }
    if !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(malformed("is not lowercase hex".into()));
    }
    let mut out = [0u8; 32];
    crate::hex::decode_to_slice(s, &mut out).ok_or_else(|| malformed("is not hex".into()))?;
    Ok(out)
}

/// A proof path: at most [`MAX_PROOF_LEN`] hashes, each [`parse_hash`]ed.
pub(crate) fn parse_path(field: &str, path: &[String]) -> Result<Vec<[u8; 32]>, LedgerError> {
    if path.len() > MAX_PROOF_LEN {
        return Err(MerkleError::ProofTooLong {
            len: path.len(),
            max: MAX_PROOF_LEN,
        }
        .into());
    }
    path.iter()
        .enumerate()
        .map(|(i, h)| parse_hash(&format!("{field}[{i}]"), h))
        .collect()
}

/// Non-empty base64url (padding optional).
pub(crate) fn decode_b64(field: &str, s: &str) -> Result<Vec<u8>, LedgerError> {
    let malformed = |why: String| LedgerError::Malformed {
        field: field.to_owned(),
        why,
    };
    if s.is_empty() {
        return Err(malformed("is missing".into()));
    }
    b64::decode(s).map_err(|e| malformed(format!("is not base64url: {e}")))
}

/// At most 128 characters of an attacker-controlled string, for error messages.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 128;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", s.get(..cut).unwrap_or_default()),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_must_be_64_lowercase_hex() {
        let good = "ab".repeat(32);
        assert_eq!(parse_hash("f", &good).unwrap(), [0xab; 32]);
        for (bad, why) in [
            ("AB".repeat(32), "lowercase"),
            ("ab".repeat(31), "62 bytes"),
            ("ab".repeat(33), "66 bytes"),
            (format!("{}zz", "ab".repeat(31)), "lowercase hex"),
            (String::new(), "0 bytes"),
        ] {
            let err = parse_hash("inclusion.leaf_hash", &bad).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("inclusion.leaf_hash") && text.contains(why),
                "{text}"
            );
        }
    }

    #[test]
    fn paths_are_bounded_before_parsing() {
        let path = vec!["not even hex".to_owned(); 65];
        assert!(matches!(
            parse_path("p", &path),
            Err(LedgerError::Merkle(MerkleError::ProofTooLong {
                len: 65,
                ..
            }))
        ));
    }

    #[test]
    fn clip_cuts_long_values_on_a_char_boundary() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(200);
        let c = clip(&long);
        assert_eq!(c.chars().count(), 129);
        assert!(c.ends_with('…'));
    }
}
