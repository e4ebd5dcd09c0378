//! base64url as the Vault writes it: URL-safe alphabet, padding optional on read, none on write.

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const URL_SAFE_INDIFFERENT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes base64url with or without `=` padding.
pub(crate) fn decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_INDIFFERENT.decode(s)
}

/// Encodes base64url without padding.
pub(crate) fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_INDIFFERENT.encode(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn padding_is_optional_on_read() {
        assert_eq!(super::decode("YQ").unwrap(), b"a");
        assert_eq!(super::decode("YQ==").unwrap(), b"a");
        assert_eq!(super::encode(b"a"), "YQ");
        assert!(super::decode("Y").is_err());
        assert!(
            super::decode("a+b/").is_err(),
            "standard alphabet is refused"
        );
    }
}
