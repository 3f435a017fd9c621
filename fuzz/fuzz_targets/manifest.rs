//! Canonical-JSON manifest parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = obscura_seal::Manifest::from_canonical_bytes(data) {
        // Canonical form is unique: what was accepted is exactly what re-encoding gives.
        assert_eq!(m.canonical_bytes().expect("re-encodes"), data);
    }
});
