//! Untrusted media: arbitrary bytes written to a file and decoded through obscura-media
//! with tight resource limits. Any outcome but a panic, a hang or a crash is fine: errors
//! must be typed errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obscura_media::{DecodeOptions, Decoder, Limits};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("obscura-fuzz-media-{}.bin", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let limits = Limits::default()
        .with_max_dimensions(1024, 1024)
        .with_max_frames(64);
    if let Ok(mut decoder) = Decoder::open(&path, &DecodeOptions::default().with_limits(limits)) {
        while let Ok(Some(frame)) = decoder.next_frame() {
            assert!(
                frame.validate().is_ok(),
                "decoder produced an inconsistent frame"
            );
        }
    }
    let _ = obscura_media::probe(&path);
    let _ = std::fs::remove_file(&path);
});
