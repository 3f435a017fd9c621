//! Payload encryption: AES-256-GCM STREAM (`aead-stream`'s `StreamBE32`) in fixed-size
//! chunks, pipelined over three threads (read + hash input, encrypt/decrypt, hash output +
//! write) with a fixed pool of recycled buffers, so memory is constant and no allocation
//! happens per chunk.

use std::io::{self, Read, Write};

use aead_stream::{DecryptorBE32, EncryptorBE32, NewStream, StreamBE32, StreamPrimitive};
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::KeyInit;
use crossbeam_channel::{Receiver, Sender, bounded};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// GCM tag length.
pub(crate) const TAG: u64 = 16;
/// Buffers in flight per payload.
const POOL: usize = 6;

/// Ciphertext size for a plaintext size (FORMAT.md 2.2).
pub(crate) fn ciphertext_size(plain: u64, chunk: u64) -> u64 {
    plain + TAG * plain.div_ceil(chunk).max(1)
}

/// The per-payload cipher: HKDF-derived key and 7-byte nonce prefix (FORMAT.md 2.1).
pub(crate) fn payload_stream(
    content_key: &[u8; 32],
    export_id: &[u8; 16],
    index: u32,
) -> StreamBE32<Aes256Gcm> {
    let hk = Hkdf::<Sha256>::new(Some(export_id), content_key);
    let mut okm = Zeroizing::new([0u8; 39]);
    // 39 bytes is far below HKDF's limit, so expand cannot fail.
    let _ = hk.expand_multi_info(&[b"obscura/v1/payload", &index.to_be_bytes()], okm.as_mut());
    let key: [u8; 32] = okm[..32].try_into().unwrap_or_default();
    let key = Zeroizing::new(key);
    let prefix: [u8; 7] = okm[32..].try_into().unwrap_or_default();
    StreamBE32::from_aead(Aes256Gcm::new((&*key).into()), &prefix.into())
}

/// What a pipeline pass saw.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PassStats {
    pub in_bytes: u64,
    pub in_sha256: [u8; 32],
    pub out_bytes: u64,
    pub out_sha256: [u8; 32],
}

/// Why a pass failed.
#[derive(Debug)]
pub(crate) enum PassError {
    Read(io::Error),
    Write(io::Error),
    Crypto,
}

struct Chunk {
    buf: Vec<u8>,
    last: bool,
}

/// Direction of a pass.
pub(crate) enum Mode {
    Encrypt(EncryptorBE32<Aes256Gcm>),
    Decrypt(DecryptorBE32<Aes256Gcm>),
}

/// Runs one payload through the pipeline. `read_len` is the plaintext chunk size when
/// encrypting and chunk size + 16 when decrypting. The final chunk is found by look-ahead
/// (a chunk is last when the next read returns nothing), so `src` must end exactly where the
/// payload ends (use `Read::take`).
/// Payloads up to this size (bytes) run on the calling thread: for them, starting threads
/// costs more than it overlaps.
pub(crate) const INLINE_MAX: u64 = 1 << 20;

pub(crate) fn pass<R: Read + Send, W: Write + Send>(
    src: R,
    dst: W,
    chunk_size: usize,
    mode: Mode,
    size_hint: Option<u64>,
) -> Result<PassStats, PassError> {
    let read_len = match mode {
        Mode::Encrypt(_) => chunk_size,
        Mode::Decrypt(_) => chunk_size + TAG as usize,
    };
    if size_hint.is_some_and(|n| n <= INLINE_MAX) {
        return pass_inline(src, dst, read_len, mode);
    }
    let (pool_tx, pool_rx) = bounded::<Vec<u8>>(POOL);
    for _ in 0..POOL {
        let _ = pool_tx.send(Vec::with_capacity(chunk_size + TAG as usize));
    }
    let (to_mid_tx, to_mid_rx) = bounded::<Chunk>(POOL);
    let (to_out_tx, to_out_rx) = bounded::<Chunk>(POOL);

    std::thread::scope(|s| {
        let reader = s.spawn(move || read_stage(src, read_len, pool_rx, to_mid_tx));
        let writer = s.spawn(move || write_stage(dst, to_out_rx, pool_tx));
        let mid = mid_stage(mode, to_mid_rx, to_out_tx);
        let r = reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("reader thread panicked")));
        let w = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("writer thread panicked")));
        // Report the root cause: a crypto failure first, then a write error when the reader
        // only stopped because the writer did (a full disk is not a damaged input), then
        // read, then write errors.
        mid?;
        if let (Err(re), Err(_)) = (&r, &w)
            && is_stopped(re)
        {
            return Err(PassError::Write(
                w.err().unwrap_or_else(|| io::Error::other("writer failed")),
            ));
        }
        let (in_bytes, in_sha256) = r.map_err(PassError::Read)?;
        let (out_bytes, out_sha256) = w.map_err(PassError::Write)?;
        Ok(PassStats {
            in_bytes,
            in_sha256,
            out_bytes,
            out_sha256,
        })
    })
}

/// The same pass on the calling thread (small payloads).
fn pass_inline<R: Read, W: Write>(
    mut src: R,
    mut dst: W,
    read_len: usize,
    mode: Mode,
) -> Result<PassStats, PassError> {
    let (mut enc, mut dec) = match mode {
        Mode::Encrypt(e) => (Some(e), None),
        Mode::Decrypt(d) => (None, Some(d)),
    };
    let (mut hin, mut hout) = (Sha256::new(), Sha256::new());
    let (mut nin, mut nout) = (0u64, 0u64);
    let mut cur = Vec::with_capacity(read_len + TAG as usize);
    let mut next = Vec::with_capacity(read_len + TAG as usize);
    read_full(&mut src, &mut cur, read_len).map_err(PassError::Read)?;
    loop {
        let last = read_full(&mut src, &mut next, read_len).map_err(PassError::Read)? == 0;
        hin.update(&cur);
        nin += cur.len() as u64;
        let r = match (last, enc.is_some()) {
            (false, true) => enc.as_mut().map(|e| e.encrypt_next_in_place(&[], &mut cur)),
            (true, true) => enc.take().map(|e| e.encrypt_last_in_place(&[], &mut cur)),
            (false, false) => dec.as_mut().map(|d| d.decrypt_next_in_place(&[], &mut cur)),
            (true, false) => dec.take().map(|d| d.decrypt_last_in_place(&[], &mut cur)),
        };
        if !matches!(r, Some(Ok(()))) {
            return Err(PassError::Crypto);
        }
        hout.update(&cur);
        nout += cur.len() as u64;
        dst.write_all(&cur).map_err(PassError::Write)?;
        if last {
            dst.flush().map_err(PassError::Write)?;
            return Ok(PassStats {
                in_bytes: nin,
                in_sha256: hin.finalize().into(),
                out_bytes: nout,
                out_sha256: hout.finalize().into(),
            });
        }
        std::mem::swap(&mut cur, &mut next);
    }
}

/// Marker of a stage that stopped because another one failed (not a cause of its own).
#[derive(Debug)]
struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("pipeline stopped")
    }
}

impl std::error::Error for Stopped {}

fn stopped() -> io::Error {
    io::Error::other(Stopped)
}

fn is_stopped(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|x| x.is::<Stopped>())
}

fn read_full<R: Read>(src: &mut R, buf: &mut Vec<u8>, len: usize) -> io::Result<usize> {
    buf.resize(len, 0);
    let mut n = 0;
    while n < len {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(n);
    Ok(n)
}

fn read_stage<R: Read>(
    mut src: R,
    len: usize,
    pool: Receiver<Vec<u8>>,
    out: Sender<Chunk>,
) -> io::Result<(u64, [u8; 32])> {
    let mut h = Sha256::new();
    let mut total = 0u64;
    let Ok(mut cur) = pool.recv() else {
        return Err(stopped());
    };
    read_full(&mut src, &mut cur, len)?;
    loop {
        let Ok(mut next) = pool.recv() else {
            return Err(stopped());
        };
        let n = read_full(&mut src, &mut next, len)?;
        h.update(&cur);
        total += cur.len() as u64;
        let last = n == 0;
        if out.send(Chunk { buf: cur, last }).is_err() {
            return Err(stopped());
        }
        if last {
            return Ok((total, h.finalize().into()));
        }
        cur = next;
    }
}

fn mid_stage(mode: Mode, input: Receiver<Chunk>, out: Sender<Chunk>) -> Result<(), PassError> {
    let mut enc = None;
    let mut dec = None;
    match mode {
        Mode::Encrypt(e) => enc = Some(e),
        Mode::Decrypt(d) => dec = Some(d),
    }
    while let Ok(mut c) = input.recv() {
        let r = match (c.last, enc.is_some()) {
            (false, true) => enc
                .as_mut()
                .map(|e| e.encrypt_next_in_place(&[], &mut c.buf)),
            (true, true) => enc.take().map(|e| e.encrypt_last_in_place(&[], &mut c.buf)),
            (false, false) => dec
                .as_mut()
                .map(|d| d.decrypt_next_in_place(&[], &mut c.buf)),
            (true, false) => dec.take().map(|d| d.decrypt_last_in_place(&[], &mut c.buf)),
        };
        if !matches!(r, Some(Ok(()))) {
            return Err(PassError::Crypto);
        }
        let last = c.last;
        if out.send(c).is_err() {
            return Ok(()); // the writer failed; it reports its own error
        }
        if last {
            return Ok(());
        }
    }
    // The reader stopped before the last chunk: its error is reported by the caller.
    Ok(())
}

fn write_stage<W: Write>(
    mut dst: W,
    input: Receiver<Chunk>,
    pool: Sender<Vec<u8>>,
) -> io::Result<(u64, [u8; 32])> {
    let mut h = Sha256::new();
    let mut total = 0u64;
    while let Ok(c) = input.recv() {
        h.update(&c.buf);
        dst.write_all(&c.buf)?;
        total += c.buf.len() as u64;
        let last = c.last;
        let _ = pool.try_send(c.buf);
        if last {
            dst.flush()?;
            return Ok((total, h.finalize().into()));
        }
    }
    Err(io::Error::other("stream ended before its last chunk"))
}

/// Hashes exactly `len` bytes of `src` (verify's pass), with a read-ahead thread so reading
/// and hashing overlap.
pub(crate) fn hash_exact<R: Read + Send>(src: R, len: u64) -> io::Result<[u8; 32]> {
    const BUF: usize = 1 << 20;
    if len <= INLINE_MAX {
        let mut b = Vec::with_capacity(len as usize);
        src.take(len).read_to_end(&mut b)?;
        if b.len() as u64 != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shorter than its manifest says",
            ));
        }
        return Ok(Sha256::digest(&b).into());
    }
    let (pool_tx, pool_rx) = bounded::<Vec<u8>>(3);
    for _ in 0..3 {
        let _ = pool_tx.send(Vec::with_capacity(BUF));
    }
    let (tx, rx) = bounded::<Vec<u8>>(3);
    std::thread::scope(|s| {
        let reader = s.spawn(move || -> io::Result<()> {
            let mut src = src.take(len);
            let mut left = len;
            while left > 0 {
                let Ok(mut b) = pool_rx.recv() else {
                    return Ok(());
                };
                let n = read_full(&mut src, &mut b, BUF.min(left as usize))?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "file shorter than its manifest says",
                    ));
                }
                left -= n as u64;
                if tx.send(b).is_err() {
                    return Ok(());
                }
            }
            Ok(())
        });
        let mut h = Sha256::new();
        let mut seen = 0u64;
        while let Ok(b) = rx.recv() {
            h.update(&b);
            seen += b.len() as u64;
            let _ = pool_tx.try_send(b);
        }
        reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("reader thread panicked")))?;
        if seen != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shorter than its manifest says",
            ));
        }
        Ok(h.finalize().into())
    })
}

/// Convenience for the stream primitive's encryptor.
pub(crate) fn encryptor(s: StreamBE32<Aes256Gcm>) -> Mode {
    Mode::Encrypt(s.encryptor())
}

/// Convenience for the stream primitive's decryptor.
pub(crate) fn decryptor(s: StreamBE32<Aes256Gcm>) -> Mode {
    Mode::Decrypt(s.decryptor())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(len: usize, chunk: usize) {
        for hint in [None, Some(len as u64)] {
            round_trip_with(len, chunk, hint);
        }
    }

    fn round_trip_with(len: usize, chunk: usize, hint: Option<u64>) {
        let key = [7u8; 32];
        let id = [9u8; 16];
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let mut ct = Vec::new();
        let st = pass(
            &data[..],
            &mut ct,
            chunk,
            encryptor(payload_stream(&key, &id, 0)),
            hint,
        )
        .unwrap();
        assert_eq!(st.in_bytes, len as u64);
        assert_eq!(ct.len() as u64, ciphertext_size(len as u64, chunk as u64));
        assert_eq!(st.out_bytes, ct.len() as u64);
        assert_eq!(st.in_sha256, <[u8; 32]>::from(Sha256::digest(&data)));
        let mut pt = Vec::new();
        let st2 = pass(
            &ct[..],
            &mut pt,
            chunk,
            decryptor(payload_stream(&key, &id, 0)),
            hint,
        )
        .unwrap();
        assert_eq!(pt, data);
        assert_eq!(st2.in_sha256, st.out_sha256);
        // another payload index cannot decrypt it
        assert!(matches!(
            pass(
                &ct[..],
                Vec::new(),
                chunk,
                decryptor(payload_stream(&key, &id, 1)),
                hint
            ),
            Err(PassError::Crypto)
        ));
        // dropping the final chunk (a truncation on a chunk boundary) fails
        if len > chunk {
            let cut = ct.len() - ((ct.len() - 1) % (chunk + 16) + 1);
            assert!(matches!(
                pass(
                    &ct[..cut],
                    Vec::new(),
                    chunk,
                    decryptor(payload_stream(&key, &id, 0)),
                    hint
                ),
                Err(PassError::Crypto)
            ));
        }
    }

    #[test]
    fn round_trips_at_chunk_boundaries() {
        for chunk in [64usize, 65_536] {
            for len in [0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 5 * chunk + 3] {
                round_trip(len, chunk);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Any size, any chunk size: the round trip is exact, the size formula holds, and
        /// the threaded and inline paths produce the same ciphertext.
        #[test]
        fn round_trip_any_size(len in 0usize..3000, shift in 6u32..10, seed: u8) {
            let chunk = 1usize << shift;
            let key = [seed; 32];
            let id = [seed ^ 0x55; 16];
            let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(seed | 1)).collect();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            pass(&data[..], &mut a, chunk, encryptor(payload_stream(&key, &id, 2)), None).unwrap();
            pass(&data[..], &mut b, chunk, encryptor(payload_stream(&key, &id, 2)), Some(len as u64)).unwrap();
            proptest::prop_assert_eq!(&a, &b);
            proptest::prop_assert_eq!(a.len() as u64, ciphertext_size(len as u64, chunk as u64));
            let mut pt = Vec::new();
            pass(&a[..], &mut pt, chunk, decryptor(payload_stream(&key, &id, 2)), None).unwrap();
            proptest::prop_assert_eq!(pt, data);
        }
    }
}
