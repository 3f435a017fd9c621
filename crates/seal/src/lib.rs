//! Sealed exports: one file holding payloads encrypted with AES-256-GCM in the STREAM
//! construction under a random content key, that key wrapped for X25519 recipients and/or a
//! passphrase (Argon2id), and a canonical JSON manifest signed with Ed25519 that binds every
//! ciphertext hash. Anyone can [`verify`] an export without a key; recipients [`open`] it.
//!
//! The byte format is specified in `docs/FORMAT.md`.
//!
//! ```no_run
//! use obscura_seal::{SealBuilder, SigningKey, RecipientSecretKey, Identity, Signer};
//! # fn main() -> Result<(), obscura_seal::Error> {
//! let signer = SigningKey::generate()?;
//! let recipient = RecipientSecretKey::generate()?;
//! SealBuilder::new(&signer)
//!     .recipient(recipient.public_key())
//!     .add_payload_bytes("report.txt", "text/plain", b"hello".to_vec())
//!     .write_to("/tmp/out.obx".as_ref())?;
//! let v = obscura_seal::verify("/tmp/out.obx".as_ref(), Some(&signer.public_key()))?;
//! assert_eq!(v.manifest.payloads.len(), 1);
//! obscura_seal::open("/tmp/out.obx".as_ref(), &Identity::Recipient(recipient), "/tmp/out".as_ref(), false)?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod canonical;
mod container;
mod error;
mod keys;
mod manifest;
mod seal;
mod stream;
#[cfg(feature = "testing")]
pub mod testing;
mod trust;

pub use container::{
    DecryptedExport, OpenOptions, VerifiedExport, decrypt, inspect, inspect_bytes, open, open_with,
    verify,
};
pub use error::{Error, VerifyError, is_disk_full};
pub use keys::{
    Identity, KdfParams, Passphrase, RecipientPublicKey, RecipientSecretKey, Signer,
    SignerPublicKey, SigningKey, create_key_file,
};
pub use manifest::{
    CameraRecord, Decimal, FORMAT_VERSION, Manifest, PayloadEntry, READABLE_VERSIONS,
    RecipientEntry, RedactionPolicy, SignerEntry, SourceFile, check_media_type, check_payload_name,
    check_portable_name, name_key,
};
pub use obscura_core::ModelId;
pub use obscura_core::civil::Date;
pub use seal::SealBuilder;
pub use trust::{TrustStore, TrustedSigner};

/// Default STREAM chunk size (64 KiB).
pub const DEFAULT_CHUNK_SIZE: u32 = 65_536;
