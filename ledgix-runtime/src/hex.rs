//! Lowercase hex, the form of every hash on the wire (a few lines instead of a dependency).

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `bytes` as lowercase hex.
pub(crate) fn encode(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Decodes hex (either case) into `out`; `None` unless `s` is exactly `2 * out.len()` hex digits.
pub(crate) fn decode_to_slice(s: &str, out: &mut [u8]) -> Option<()> {
    let s = s.as_bytes();
    if s.len() != out.len().checked_mul(2)? {
        return None;
    }
    for (byte, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(())
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(encode([]), "");
        assert_eq!(encode([0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        let mut out = [0u8; 4];
        assert_eq!(decode_to_slice("000FA5ff", &mut out), Some(()));
        assert_eq!(out, [0x00, 0x0f, 0xa5, 0xff]);
        for bad in [
            "000fa5f",
            "000fa5fff",
            "000fa5fg",
            "+00fa5ff",
            "000fa5f\u{e9}",
        ] {
            assert_eq!(decode_to_slice(bad, &mut out), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let text = encode(&bytes);
            prop_assert_eq!(text.len(), bytes.len() * 2);
            let mut back = vec![0u8; bytes.len()];
            prop_assert_eq!(decode_to_slice(&text, &mut back), Some(()));
            prop_assert_eq!(back, bytes);
        }

        #[test]
        fn decode_never_panics(s in ".{0,80}", n in 0usize..40) {
            let mut out = vec![0u8; n];
            let _ = decode_to_slice(&s, &mut out);
        }
    }
}
