//! Lowercase hex for the tests' hashes (the SDK itself keeps its helper private).

/// `bytes` as lowercase hex.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    bytes.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex text to bytes; panics on anything else (test input is ours).
pub fn decode(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd-length hex {text:?}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digits"))
        .collect()
}

/// A 32-byte hash from its 64 hex characters.
pub fn hash32(text: &str) -> [u8; 32] {
    decode(text).try_into().expect("32 bytes")
}
