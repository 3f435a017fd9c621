//! Whole-container parser: preamble, header, trailer, manifest, structural cross-checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = obscura_seal::inspect_bytes(data) {
        // Anything accepted must re-encode to canonical bytes that parse back identically.
        let bytes = m.canonical_bytes().expect("accepted manifest re-encodes");
        assert_eq!(
            obscura_seal::Manifest::from_canonical_bytes(&bytes).expect("re-parses"),
            m
        );
    }
});
