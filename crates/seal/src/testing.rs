//! (Only with the `testing` feature.) Support for test vectors and fuzz seeds: rewriting an export's manifest and signing it
//! again, to build exports that are validly signed yet wrong in another way (non-canonical
//! manifest, unsafe payload name, replayed ids). Anyone holding a signing key can do this
//! anyway; verifiers must not rely on signers being well-behaved, which is what these
//! exports test.

use crate::container::{END_MAGIC, TRAILER_LEN, sig_context};
use crate::{Error, Signer};

/// An export cut into (body: preamble, header and payload data; manifest bytes; signature).
pub type Parts<'a> = (&'a [u8], &'a [u8], [u8; 64]);

/// The three regions of an export: everything before the manifest (preamble, header,
/// payload data), the manifest bytes, and the signature.
pub fn split(export: &[u8]) -> Result<Parts<'_>, Error> {
    let n = export.len();
    if (n as u64) < TRAILER_LEN + 14 || export[n - 8..] != END_MAGIC {
        return Err(Error::Damaged {
            reason: "no end marker".into(),
        });
    }
    let m = u32::from_be_bytes(export[n - 12..n - 8].try_into().unwrap_or_default()) as usize;
    let m_off = n
        .checked_sub(TRAILER_LEN as usize + m)
        .ok_or(Error::Damaged {
            reason: "manifest length".into(),
        })?;
    let sig: [u8; 64] = export[n - 76..n - 12].try_into().unwrap_or([0; 64]);
    Ok((&export[..m_off], &export[m_off..m_off + m], sig))
}

/// Reassembles an export from a body (preamble, header, payload data) and manifest bytes,
/// signing the manifest with `signer` (under the signature context of the version in the
/// body's preamble).
pub fn assemble(body: &[u8], manifest: &[u8], signer: &dyn Signer) -> Result<Vec<u8>, Error> {
    let version = body
        .get(8..10)
        .map_or(1, |v| u32::from(u16::from_be_bytes([v[0], v[1]])));
    let mut msg = sig_context(version).to_vec();
    msg.extend_from_slice(manifest);
    let sig = signer.sign(&msg)?;
    let mut out = Vec::with_capacity(body.len() + manifest.len() + TRAILER_LEN as usize);
    out.extend_from_slice(body);
    out.extend_from_slice(manifest);
    out.extend_from_slice(&sig);
    out.extend_from_slice(&(manifest.len() as u32).to_be_bytes());
    out.extend_from_slice(&END_MAGIC);
    Ok(out)
}

/// Replaces the manifest by `edit(manifest)` and signs it again with `signer`.
pub fn resign(
    export: &[u8],
    signer: &dyn Signer,
    edit: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Result<Vec<u8>, Error> {
    let (body, manifest, _) = split(export)?;
    let new = edit(manifest);
    assemble(body, &new, signer)
}

/// SHA-256 (so generators need no hashing dependency of their own).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    obscura_core::digest::sha256(bytes)
}
