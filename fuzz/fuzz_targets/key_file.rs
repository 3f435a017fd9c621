//! Text key-file parsers (public and secret, with and without passphrase protection).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = obscura_seal::SignerPublicKey::from_key_text(text);
        let _ = obscura_seal::RecipientPublicKey::from_key_text(text);
        let _ = obscura_seal::SigningKey::from_key_text(text, None);
        let _ = obscura_seal::RecipientSecretKey::from_key_text(text, None);
    }
});
