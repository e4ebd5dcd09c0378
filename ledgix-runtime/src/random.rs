//! Random bytes from the operating system (`getrandom`): request ids, idempotency keys, retry
//! jitter and the keys of test signers and the mock Vault.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// `N` random bytes. Should the operating system's source ever fail, the bytes come from
/// SHA-256 of the time, a process-wide counter and the process id instead: unique and
/// unpredictable enough for ids and jitter, which must never stop a call. Keys use [`seed`].
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    if getrandom::fill(&mut out).is_err() {
        fallback(&mut out);
    }
    out
}

/// A 32-byte secret seed for a signing key, from the operating system only.
///
/// # Panics
///
/// When the operating system has no random source (as `rand::random` did before).
#[cfg(feature = "test-util")]
pub(crate) fn seed() -> [u8; 32] {
    let mut out = [0u8; 32];
    getrandom::fill(&mut out).expect("the operating system's random source (getrandom)");
    out
}

/// A random RFC 9562 version 4 UUID, lowercase hyphenated (`xxxxxxxx-xxxx-4xxx-yxxx-…`).
pub(crate) fn uuid_v4() -> String {
    let mut b = bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // variant 10
    let hex = crate::hex::encode(b);
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// A uniform `f64` in `[0, 1)` (53 random bits).
pub(crate) fn unit() -> f64 {
    let bits = u64::from_le_bytes(bytes::<8>()) >> 11;
    bits as f64 / (1u64 << 53) as f64
}

fn fallback(out: &mut [u8]) {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    for (block, chunk) in out.chunks_mut(32).enumerate() {
        let digest = Sha256::new()
            .chain_update(nanos.to_le_bytes())
            .chain_update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes())
            .chain_update(std::process::id().to_le_bytes())
            .chain_update(block.to_le_bytes())
            .finalize();
        chunk.copy_from_slice(&digest[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v4_has_the_version_and_variant_bits() {
        let ids: Vec<String> = (0..64).map(|_| uuid_v4()).collect();
        for id in &ids {
            let groups: Vec<&str> = id.split('-').collect();
            let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
            assert_eq!(lens, [8, 4, 4, 4, 12], "{id}");
            assert!(
                id.bytes()
                    .all(|b| b == b'-' || b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
            assert!(groups[2].starts_with('4'), "{id}");
            assert!(
                matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
                "{id}"
            );
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len());
    }

    #[test]
    fn unit_is_in_range_and_varies() {
        let xs: Vec<f64> = (0..256).map(|_| unit()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(xs.iter().any(|x| *x < 0.5) && xs.iter().any(|x| *x >= 0.5));
    }

    #[test]
    fn fallback_fills_distinct_blocks() {
        let (mut a, mut b) = ([0u8; 40], [0u8; 40]);
        fallback(&mut a);
        fallback(&mut b);
        assert_ne!(a, b);
        assert_ne!(a[..32], [0u8; 32]);
        assert_ne!(a[32..], [0u8; 8]);
    }
}
