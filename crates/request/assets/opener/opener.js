// Obscura offline opener: verifies and decrypts an Obscura export (.obx, docs/FORMAT.md)
// entirely in this page. Nothing is sent anywhere: the page's Content-Security-Policy
// forbids every fetch, and the only code here is this file and the pinned hash-wasm build.
//
// Crypto: WebCrypto for Ed25519, X25519, HKDF-SHA256, AES-256-GCM and one-shot SHA-256;
// hash-wasm (vendored, sha256-pinned) for Argon2id and for incremental SHA-256 over
// payloads (WebCrypto has no streaming digest). Payloads are read chunk by chunk with
// File.slice; decrypted chunks are collected into Blobs, so a package larger than memory
// works where the browser keeps large Blobs on disk (Chromium, Firefox).
'use strict';

// ---------------------------------------------------------------------------------------
// The format, as data (FORMAT.md). A small format change should only touch this table.
// ---------------------------------------------------------------------------------------
const FORMAT = {
  magic: [0x89, 0x4f, 0x42, 0x58, 0x0d, 0x0a, 0x1a, 0x0a],
  endMagic: [0x4f, 0x42, 0x58, 0x2d, 0x45, 0x4e, 0x44, 0x0a], // "OBX-END\n"
  preambleLen: 14, // magic(8) version(u16) header_len(u32)
  trailerLen: 76, // signature(64) manifest_len(u32) end magic(8)
  headerLen: [2, 1 << 20],
  manifestLen: [2, 16 << 20],
  tag: 16,
  chunkSize: [64, 16 << 20], // power of two
  maxPayloads: 65536,
  maxRecipients: 256,
  payloadInfo: 'obscura/v1/payload',
  payloadOkm: 39, // key(32) || nonce prefix(7)
  x25519Info: 'obscura/v1/x25519',
  // Argon2id reader limits (m_kib, t, p); m_kib >= 8 * p is checked too. At most this many
  // passphrase stanzas, so Argon2id runs at most once per attempt (as obscura-seal reads).
  kdf: { m_kib: [8, 1048576], t: [1, 16], p: [1, 4] },
  maxPassphraseStanzas: 1,
  // Versions this page reads, with what differs between them (FORMAT.md 4.2, 5.2, 6):
  // format 2 has no floats and only integers within +-(2^53-1), no unknown manifest keys,
  // media types by grammar, a passphrase stanza only alone, and each X25519 stanza tried
  // only by the key whose fingerprint the manifest lists for it.
  versions: {
    1: { manifestVersion: 1, sigContext: 'obscura-export-manifest-v1\0', floats: true, openManifest: true },
    2: {
      manifestVersion: 2,
      sigContext: 'obscura-export-manifest-v2\0',
      floats: false,
      openManifest: false,
      mediaType: /^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$/,
      passphraseAlone: true,
      boundFingerprints: true,
    },
  },
  // Header: every key required, no others (schema language below).
  header: {
    obj: {
      chunk_size: 'u32',
      export_id: 'hex16',
      payload_count: 'u32',
      recipients: { arr: { tagged: 'type', variants: 'stanzas' } },
      version: 'u32',
    },
  },
  stanzas: {
    x25519: { ephemeral: 'hex32', wrapped_key: 'hex48' },
    argon2id: { m_kib: 'u32', p: 'u32', salt: 'hex16', t: 'u32', wrapped_key: 'hex48' },
  },
  // Manifest: unknown top-level keys allowed (signed, ignored); nested objects closed.
  manifest: {
    open: true,
    obj: {
      format_version: 'u32',
      export_id: 'hex16',
      header_sha256: 'hex32',
      created: 'str',
      expires: '?date',
      reference: '?str',
      operator: '?str',
      sources: { opt: true, arr: { obj: { name: 'str', sha256: 'str' } } },
      cameras: '?any',
      policy: '?any',
      payloads: {
        arr: {
          obj: {
            name: 'str',
            media_type: 'str',
            plaintext_size: 'u64',
            plaintext_sha256: 'hex32',
            ciphertext_size: 'u64',
            ciphertext_sha256: 'hex32',
          },
        },
      },
      recipients: { arr: { tagged: 'type', variants: 'manifestRecipients' } },
      signer: { obj: { algorithm: 'str', public_key: 'hex32', fingerprint: 'hex32' } },
    },
  },
  manifestRecipients: { x25519: { fingerprint: 'hex32' }, argon2id: {} },
  // Payload names a reader opens (FORMAT.md 5.1, obscura-seal's check_portable_name): no
  // bidirectional controls or invisible format characters, nothing Windows refuses, no
  // reserved device name; unique after NFC + lower case + NFC.
  portableNames: {
    deceptive: /[\u061C\u200B-\u200F\u202A-\u202E\u2028\u2029\u2060-\u2069\uFEFF]/,
    forbidden: /[<>:"|?*]/,
    trailing: /[ .]$/,
    reservedStem: /^(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9\u00B9\u00B2\u00B3]|LPT[0-9\u00B9\u00B2\u00B3])$/,
  },
  // Key files (FORMAT.md section 8).
  keyPrefix: 'obscura-recipient-secret-1',
  protectedSuffix: '-argon2id',
};

// Media types the page shows inline; everything else can only be saved.
const VIEWERS = { 'video/mp4': 'video', 'video/webm': 'video', 'text/html': 'report', 'image/jpeg': 'image', 'image/png': 'image' };

// ---------------------------------------------------------------------------------------
// Texts (English, German); the page picks the browser's language.
// ---------------------------------------------------------------------------------------
const TEXT = {
  en: {
    title: 'Open your Obscura export',
    intro: 'This page opens the encrypted package you received (a file ending in .obx). Everything happens on this computer: the page has no network access and sends nothing anywhere.',
    step1: '1. Choose the package',
    drop: 'Drop the .obx file here, or choose it:',
    expectedFp: 'Fingerprint you were given separately (optional, recommended):',
    checking: 'Checking the package…',
    verified: 'The package is intact and signed.',
    verifiedPinned: 'The package is intact and signed by the key whose fingerprint you entered.',
    signer: 'Signed by the key with fingerprint',
    compare: 'Compare this fingerprint with the one the sender gave you by another channel (letter, phone). If they differ, do not trust the package.',
    refused: 'This package cannot be opened:',
    step2: '2. Unlock it',
    passphrase: 'Passphrase',
    keyfile: 'or your key file (.recipient.key):',
    decrypt: 'Decrypt',
    decrypting: 'Decrypting…',
    done: 'Decrypted and checked. Every file matches its signed fingerprint.',
    step3: '3. Your files',
    save: 'Save',
    saveAll: 'Save all files',
    report: 'Report',
    created: 'Created',
    expires: 'Can be opened until',
    never: 'no limit',
    reference: 'Reference',
    files: 'Files in the package',
    bytes: 'bytes',
    kind: {
      damaged: 'the file is damaged or has been changed',
      'bad-signature': 'the signature is not valid (the package was changed after signing)',
      'unknown-signer': 'it was signed by a different key than the fingerprint you entered',
      expired: 'its retention period is over',
      'no-match': 'wrong passphrase, or the key file is not one of its recipients',
      unsupported: 'this browser lacks a feature the page needs',
    },
  },
  de: {
    title: 'Ihren Obscura-Export öffnen',
    intro: 'Diese Seite öffnet das verschlüsselte Paket, das Sie erhalten haben (eine Datei mit der Endung .obx). Alles geschieht auf diesem Computer: Die Seite hat keinen Netzzugang und sendet nichts.',
    step1: '1. Paket auswählen',
    drop: 'Ziehen Sie die .obx-Datei hierher oder wählen Sie sie aus:',
    expectedFp: 'Fingerabdruck, den Sie getrennt erhalten haben (optional, empfohlen):',
    checking: 'Paket wird geprüft…',
    verified: 'Das Paket ist unverändert und signiert.',
    verifiedPinned: 'Das Paket ist unverändert und mit dem Schlüssel signiert, dessen Fingerabdruck Sie eingegeben haben.',
    signer: 'Signiert mit dem Schlüssel mit dem Fingerabdruck',
    compare: 'Vergleichen Sie diesen Fingerabdruck mit dem, den Ihnen der Absender auf anderem Weg (Brief, Telefon) mitgeteilt hat. Weicht er ab, vertrauen Sie dem Paket nicht.',
    refused: 'Dieses Paket kann nicht geöffnet werden:',
    step2: '2. Entsperren',
    passphrase: 'Passwort',
    keyfile: 'oder Ihre Schlüsseldatei (.recipient.key):',
    decrypt: 'Entschlüsseln',
    decrypting: 'Wird entschlüsselt…',
    done: 'Entschlüsselt und geprüft. Jede Datei stimmt mit ihrem signierten Fingerabdruck überein.',
    step3: '3. Ihre Dateien',
    save: 'Speichern',
    saveAll: 'Alle Dateien speichern',
    report: 'Bericht',
    created: 'Erstellt',
    expires: 'Zu öffnen bis',
    never: 'unbegrenzt',
    reference: 'Aktenzeichen',
    files: 'Dateien im Paket',
    bytes: 'Bytes',
    kind: {
      damaged: 'die Datei ist beschädigt oder wurde verändert',
      'bad-signature': 'die Signatur ist ungültig (das Paket wurde nach dem Signieren verändert)',
      'unknown-signer': 'es wurde mit einem anderen Schlüssel signiert als dem, dessen Fingerabdruck Sie eingegeben haben',
      expired: 'die Aufbewahrungsfrist ist abgelaufen',
      'no-match': 'falsches Passwort, oder die Schlüsseldatei gehört nicht zu den Empfängern',
      unsupported: 'diesem Browser fehlt eine benötigte Funktion',
    },
  },
};
const LANG = (navigator.language || 'en').toLowerCase().startsWith('de') ? 'de' : 'en';
const T = TEXT[LANG];

/** A refusal with one of the kinds above (the CLI's error kinds) and a reason. */
class Refusal extends Error {
  constructor(kind, reason) {
    super(reason);
    this.kind = kind;
  }
}
const damaged = (why) => new Refusal('damaged', why);

// ---------------------------------------------------------------------------------------
// Bytes
// ---------------------------------------------------------------------------------------
const enc = new TextEncoder();
const utf8 = (s) => enc.encode(s);
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
function unhex(s, n) {
  if (typeof s !== 'string' || !/^[0-9a-f]*$/.test(s) || s.length !== 2 * n) return null;
  const o = new Uint8Array(n);
  for (let i = 0; i < n; i++) o[i] = parseInt(s.substr(2 * i, 2), 16);
  return o;
}
function concat(...parts) {
  const o = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let i = 0;
  for (const p of parts) {
    o.set(p, i);
    i += p.length;
  }
  return o;
}
const u32be = (n) => new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
async function readSlice(file, start, end) {
  return new Uint8Array(await file.slice(start, end).arrayBuffer());
}
/** A read started ahead; its failure is reported where it is awaited. */
function prefetch(promise) {
  promise.catch(() => {});
  return promise;
}

// ---------------------------------------------------------------------------------------
// Canonical JSON (FORMAT.md section 4): a strict parser that refuses every other form.
// Integers become Numbers when exact (|n| <= 2^53 - 1), otherwise BigInts.
// ---------------------------------------------------------------------------------------
const SHORT_ESC = { 0x22: 0x22, 0x5c: 0x5c, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };
function parseCanonical(bytes, what, floats) {
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    throw damaged(`${what} is not valid UTF-8`);
  }
  const bad = (why) => damaged(`${what} is not canonical JSON (${why})`);
  let i = 0;
  const cmpBytes = (a, b) => {
    for (let k = 0; k < Math.min(a.length, b.length); k++) if (a[k] !== b[k]) return a[k] - b[k];
    return a.length - b.length;
  };
  function str() {
    if (text[i] !== '"') throw bad('string expected');
    i++;
    let o = '';
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) throw bad('unterminated string');
      if (c === 0x22) {
        i++;
        return o;
      }
      if (c < 0x20) throw bad('raw control character');
      if (c !== 0x5c) {
        o += text[i++];
        continue;
      }
      const e = text.charCodeAt(i + 1);
      if (e in SHORT_ESC) {
        o += String.fromCharCode(SHORT_ESC[e]);
        i += 2;
      } else if (e === 0x75) {
        const h = text.substr(i + 2, 4);
        if (!/^00[01][0-9a-f]$/.test(h)) throw bad('\\u escape outside U+0000..U+001F');
        const v = parseInt(h, 16);
        if ([0x08, 0x09, 0x0a, 0x0c, 0x0d].includes(v)) throw bad('\\u escape where a short escape exists');
        o += String.fromCharCode(v);
        i += 6;
      } else throw bad('unknown escape');
    }
  }
  function num() {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) throw bad('number expected');
    i += m[0].length;
    if (!floats && (m[2] || m[3])) throw bad(`number ${m[0]} is not an integer (format 2 has no floats)`);
    if (!m[2] && !m[3]) {
      if (m[0] === '-0') throw bad('negative zero');
      const b = BigInt(m[0]);
      if (!floats && (b < BigInt(Number.MIN_SAFE_INTEGER) || b > BigInt(Number.MAX_SAFE_INTEGER))) throw bad(`integer ${m[0]} out of range`);
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
    }
    const x = Number(m[0]);
    if (!Number.isFinite(x) || shortestFloat(x) !== m[0]) throw bad(`number ${m[0]} not in shortest form`);
    return x;
  }
  function value(depth) {
    if (depth > 64) throw bad('nested too deeply');
    const c = text[i];
    if (c === '{') {
      i++;
      const o = Object.create(null);
      let prev = null;
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        const k = str();
        const kb = utf8(k);
        if (prev && cmpBytes(prev, kb) >= 0) throw bad(`key "${k}" out of order or duplicated`);
        prev = kb;
        if (text[i++] !== ':') throw bad('":" expected');
        o[k] = value(depth + 1);
        const s = text[i++];
        if (s === '}') return o;
        if (s !== ',') throw bad('"," or "}" expected');
      }
    }
    if (c === '[') {
      i++;
      const a = [];
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value(depth + 1));
        const s = text[i++];
        if (s === ']') return a;
        if (s !== ',') throw bad('"," or "]" expected');
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) return (i += 4), true;
    if (text.startsWith('false', i)) return (i += 5), false;
    if (text.startsWith('null', i)) throw bad('null is never written');
    return num();
  }
  const v = value(0);
  if (i !== text.length) throw bad('trailing bytes or whitespace');
  return v;
}

/** A finite double as serde_json (ryu) writes it: shortest digits, ".0" or an exponent. */
function shortestFloat(x) {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, exp] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const len = digits.length;
  const kk = Number(exp) + 1; // position of the decimal point relative to the digits
  const k = kk - len;
  let s;
  if (k >= 0 && kk <= 16) s = digits + '0'.repeat(k) + '.0';
  else if (kk > 0 && kk <= 16) s = digits.slice(0, kk) + '.' + digits.slice(kk);
  else if (kk > -5 && kk <= 0) s = '0.' + '0'.repeat(-kk) + digits;
  else s = (len === 1 ? digits : digits[0] + '.' + digits.slice(1)) + 'e' + (kk - 1);
  return (x < 0 ? '-' : '') + s;
}

// ---------------------------------------------------------------------------------------
// Schema check (the FORMAT table's little language).
// ---------------------------------------------------------------------------------------
const SCALARS = {
  u32: (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff,
  u64: (v) => Number.isInteger(v) && v >= 0, // sizes beyond 2^53 are refused (not exact here)
  str: (v) => typeof v === 'string',
  date: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v),
  hex16: (v) => unhex(v, 16) !== null,
  hex32: (v) => unhex(v, 32) !== null,
  hex48: (v) => unhex(v, 48) !== null,
  any: () => true,
};
function checkSchema(v, schema, path) {
  const fail = () => damaged(`malformed ${path}`);
  if (typeof schema === 'string') {
    const t = schema.replace(/^\?/, '');
    if (!SCALARS[t](v)) throw fail();
    return;
  }
  if (schema.arr) {
    if (!Array.isArray(v)) throw fail();
    v.forEach((x, k) => checkSchema(x, schema.arr, `${path}[${k}]`));
    return;
  }
  if (schema.tagged) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail();
    const variant = FORMAT[schema.variants][v[schema.tagged]];
    if (!variant) throw damaged(`${path}: unknown type ${JSON.stringify(v[schema.tagged])}`);
    const fields = Object.assign({ [schema.tagged]: 'str' }, variant);
    checkSchema(v, { obj: fields }, path);
    return;
  }
  if (schema.obj) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail();
    for (const [k, s] of Object.entries(schema.obj)) {
      const optional = (typeof s === 'string' && s.startsWith('?')) || (typeof s === 'object' && s.opt);
      if (!(k in v)) {
        if (!optional) throw damaged(`${path}: missing ${k}`);
        continue;
      }
      checkSchema(v[k], s, `${path}.${k}`);
    }
    if (!schema.open) for (const k of Object.keys(v)) if (!(k in schema.obj)) throw damaged(`${path}: unknown key ${k}`);
  }
}

// ---------------------------------------------------------------------------------------
// Ed25519 strictness (as ed25519-dalek's verify_strict): canonical S, and neither the key
// nor R a small-order point or a non-canonical encoding.
// ---------------------------------------------------------------------------------------
const ED_L = (1n << 252n) + 27742317777372353535851937790883648493n;
const ED_P = (1n << 255n) - 19n;
const SMALL_ORDER = new Set([
  '0100000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
]);
const leInt = (b) => b.reduceRight((a, x) => (a << 8n) | BigInt(x), 0n);
function strictPoint(b) {
  const y = leInt(b) & ((1n << 255n) - 1n);
  return y < ED_P && !SMALL_ORDER.has(hex(b));
}

async function ed25519Verify(pk, sig, msg) {
  if (!strictPoint(pk) || !strictPoint(sig.subarray(0, 32)) || leInt(sig.subarray(32)) >= ED_L) return false;
  const key = await crypto.subtle.importKey('raw', pk, { name: 'Ed25519' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'Ed25519' }, key, sig, msg);
}

const sha256 = async (b) => new Uint8Array(await crypto.subtle.digest('SHA-256', b));
async function hkdf(ikm, salt, info, len) {
  const k = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, k, 8 * len));
}
async function gcmOpen(keyBytes, iv, aad, ct) {
  const k = await crypto.subtle.importKey('raw', keyBytes, 'AES-GCM', false, ['decrypt']);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 }, k, ct));
  } catch (e) {
    return null;
  }
}
function checkKdf(s) {
  const [m, t, p] = [s.m_kib, s.t, s.p];
  const within = (v, [a, b]) => v >= a && v <= b;
  return within(m, FORMAT.kdf.m_kib) && within(t, FORMAT.kdf.t) && within(p, FORMAT.kdf.p) && m >= 8 * p;
}
async function argon2id(pass, salt, s) {
  return HASHWASM.argon2id({ password: pass, salt, parallelism: s.p, iterations: s.t, memorySize: s.m_kib, hashLength: 32, outputType: 'binary' });
}

const ciphertextSize = (p, chunk) => p + FORMAT.tag * Math.max(1, Math.ceil(p / chunk));

// ---------------------------------------------------------------------------------------
// Verification (FORMAT.md section 7): everything without a key.
// ---------------------------------------------------------------------------------------
async function parsePackage(file) {
  const len = file.size;
  const F = FORMAT;
  if (len < F.preambleLen + 2 + 2 + F.trailerLen) {
    if (len >= 8 && !eq(await readSlice(file, 0, 8), F.magic)) throw damaged('not an Obscura export (bad magic)');
    throw damaged('truncated (too short)');
  }
  const pre = await readSlice(file, 0, F.preambleLen);
  if (!eq(pre.subarray(0, 8), F.magic)) throw damaged('not an Obscura export (bad magic)');
  const dv = new DataView(pre.buffer);
  const version = dv.getUint16(8);
  const V = F.versions[version];
  if (!V) throw damaged(`unsupported format version ${version}`);
  const hLen = dv.getUint32(10);
  if (hLen < F.headerLen[0] || hLen > F.headerLen[1] || F.preambleLen + hLen + 2 + F.trailerLen > len) throw damaged('header length out of bounds (truncated?)');
  const tail = await readSlice(file, len - 12, len);
  if (!eq(tail.subarray(4), F.endMagic)) throw damaged('truncated or extended (no end marker)');
  const mLen = new DataView(tail.buffer).getUint32(0);
  if (mLen < F.manifestLen[0] || mLen > F.manifestLen[1] || F.preambleLen + hLen + mLen + F.trailerLen > len) throw damaged('manifest length out of bounds (truncated?)');
  const headerBytes = await readSlice(file, F.preambleLen, F.preambleLen + hLen);
  const header = parseCanonical(headerBytes, 'header', V.floats);
  checkSchema(header, F.header, 'header');
  const mOff = len - F.trailerLen - mLen;
  const ms = await readSlice(file, mOff, mOff + mLen + 64);
  const manifestBytes = ms.slice(0, mLen);
  const signature = ms.slice(mLen);
  const manifest = parseCanonical(manifestBytes, 'manifest', V.floats);
  checkSchema(manifest, Object.assign({}, F.manifest, { open: V.openManifest }), 'manifest');

  // Cross-checks (as the CLI's check_structure).
  if (header.version !== version || manifest.format_version !== V.manifestVersion) throw damaged('header or manifest version does not match the file');
  if (manifest.export_id !== header.export_id) throw damaged('manifest belongs to another export (export id differs)');
  if (hex(await sha256(headerBytes)) !== manifest.header_sha256) throw damaged('manifest belongs to another header (header hash differs)');
  const cs = header.chunk_size;
  if ((cs & (cs - 1)) !== 0 || cs < F.chunkSize[0] || cs > F.chunkSize[1]) throw damaged('invalid chunk size');
  const pays = manifest.payloads;
  if (header.payload_count !== pays.length || pays.length === 0 || pays.length > F.maxPayloads) throw damaged('payload count differs between header and manifest');
  const st = header.recipients;
  if (st.length === 0 || st.length > F.maxRecipients || st.length !== manifest.recipients.length) throw damaged('recipient count differs between header and manifest');
  if (st.filter((s) => s.type === 'argon2id').length > F.maxPassphraseStanzas) throw damaged('more than one passphrase stanza');
  if (V.passphraseAlone && st.length > 1 && st.some((s) => s.type === 'argon2id')) throw damaged('a passphrase stanza must be the only stanza in format 2');
  st.forEach((s, k) => {
    if (s.type !== manifest.recipients[k].type || (s.type === 'argon2id' && !checkKdf(s))) throw damaged('malformed recipient stanza');
  });
  const names = new Set();
  for (const p of pays) {
    if (!validName(p.name)) throw damaged('unsafe payload name');
    if (names.has(p.name)) throw damaged('duplicate payload name');
    names.add(p.name);
    if (!p.media_type || utf8(p.media_type).length > 255 || /[\u0000-\u001f\u007f-\u009f]/.test(p.media_type)) throw damaged('invalid media type');
    if (V.mediaType && !V.mediaType.test(p.media_type)) throw damaged('invalid media type');
    if (!Number.isSafeInteger(p.plaintext_size) || ciphertextSize(p.plaintext_size, cs) !== p.ciphertext_size) throw damaged('payload sizes inconsistent');
  }
  const pk = unhex(manifest.signer.public_key, 32);
  if (manifest.signer.algorithm !== 'ed25519' || manifest.signer.fingerprint !== hex(await sha256(pk))) throw damaged('malformed signer entry');
  const expected = F.preambleLen + hLen + mLen + F.trailerLen + pays.reduce((a, p) => a + p.ciphertext_size, 0);
  if (expected !== len) throw damaged(`file is ${len} bytes but its manifest describes ${expected} (truncated, extended or spliced)`);
  return { file, V, header, manifest, manifestBytes, signature, exportId: unhex(header.export_id, 16), payloadOffset: F.preambleLen + hLen, signerKey: pk };
}

/** Why a payload name may not be written to disk, or null (FORMAT.portableNames). */
function unportableName(n) {
  const R = FORMAT.portableNames;
  if (R.deceptive.test(n)) return 'contains a bidirectional control or invisible format character';
  if (R.forbidden.test(n)) return 'contains one of < > : " | ? *';
  if (R.trailing.test(n)) return "ends with a space or '.'";
  if (R.reservedStem.test(n.split('.')[0].replace(/ +$/, '').toUpperCase())) return 'is a device name reserved on Windows';
  return null;
}
function checkPortableNames(payloads) {
  const seen = new Set();
  for (const e of payloads) {
    const why = unportableName(e.name);
    if (why) throw damaged(`payload name ${JSON.stringify(e.name)} ${why}`);
    const key = e.name.normalize('NFC').toLowerCase().normalize('NFC');
    if (seen.has(key)) throw damaged(`payload name ${JSON.stringify(e.name)} differs from another only in case or Unicode normalisation`);
    seen.add(key);
  }
}

function validName(n) {
  return typeof n === 'string' && n.length > 0 && utf8(n).length <= 255 && !n.startsWith('.') && !/[\/\\\u0000-\u001f\u007f-\u009f]/.test(n);
}

const todayUtc = () => new Date().toISOString().slice(0, 10);

/** Structure, signature, optional pinned fingerprint, every ciphertext hash, expiry. */
async function verifyPackage(file, pinnedFp, progress) {
  const p = await parsePackage(file);
  const msg = concat(utf8(p.V.sigContext), p.manifestBytes);
  if (!(await ed25519Verify(p.signerKey, p.signature, msg))) throw new Refusal('bad-signature', 'the signature does not verify');
  const fp = p.manifest.signer.fingerprint;
  if (pinnedFp && pinnedFp !== fp) throw new Refusal('unknown-signer', `signed by ${fp}, not by the expected ${pinnedFp}`);
  let off = p.payloadOffset;
  const total = p.manifest.payloads.reduce((a, x) => a + x.ciphertext_size, 0);
  let seen = 0;
  for (const [k, e] of p.manifest.payloads.entries()) {
    const h = await HASHWASM.createSHA256();
    const stop = off + e.ciphertext_size;
    let next = prefetch(readSlice(file, off, Math.min(off + READ_BYTES, stop)));
    for (let a = off; a < stop; a += READ_BYTES) {
      const b = await next;
      if (a + READ_BYTES < stop) next = prefetch(readSlice(file, a + READ_BYTES, Math.min(a + 2 * READ_BYTES, stop)));
      h.update(b);
      seen += b.length;
      progress(seen / total);
    }
    if (h.digest('hex') !== e.ciphertext_sha256) throw damaged(`payload ${k + 1} ("${e.name}") does not match its signed hash`);
    off += e.ciphertext_size;
  }
  if (p.manifest.expires && p.manifest.expires < todayUtc()) throw new Refusal('expired', `the package expired on ${p.manifest.expires}`);
  return p;
}

const READ_BYTES = 4 << 20; // one File.slice read (about 64 chunks of 64 KiB)

// ---------------------------------------------------------------------------------------
// Unwrapping the content key (FORMAT.md 2.3).
// ---------------------------------------------------------------------------------------
/** A recipient key file's secret: plain, or protected by `pass`. */
async function readKeyFile(text, pass) {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (lines.length !== 1) throw new Refusal('no-match', lines.length ? 'the key file has more than one key line' : 'the key file has no key line');
  const [prefix, body] = [lines[0].slice(0, lines[0].indexOf(':')), lines[0].slice(lines[0].indexOf(':') + 1)];
  if (prefix === FORMAT.keyPrefix) {
    const sk = unhex(body, 32);
    if (!sk) throw new Refusal('no-match', 'malformed key in the key file');
    return sk;
  }
  if (prefix !== FORMAT.keyPrefix + FORMAT.protectedSuffix) throw new Refusal('no-match', `not a recipient key file (${prefix || 'no prefix'})`);
  const raw = unhex(body, 76);
  if (!raw) throw new Refusal('no-match', 'malformed key in the key file');
  if (!pass.length) throw new Refusal('no-match', 'the key file is passphrase-protected: enter its passphrase');
  const dv = new DataView(raw.buffer);
  const s = { m_kib: dv.getUint32(16), t: dv.getUint32(20), p: dv.getUint32(24) };
  if (!checkKdf(s)) throw new Refusal('no-match', 'bad protection parameters in the key file');
  const kek = await argon2id(pass, raw.slice(0, 16), s);
  const sk = await gcmOpen(kek, new Uint8Array(12), utf8(prefix), raw.slice(28));
  if (!sk) throw new Refusal('no-match', 'wrong passphrase for the key file');
  return sk;
}

const PKCS8_X25519 = unhex('302e020100300506032b656e04220420', 16);
async function x25519Identity(sk) {
  const priv = await crypto.subtle.importKey('pkcs8', concat(PKCS8_X25519, sk), { name: 'X25519' }, true, ['deriveBits']);
  const jwk = await crypto.subtle.exportKey('jwk', priv);
  const pub = Uint8Array.from(atob(jwk.x.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  return { priv, pub };
}

async function unwrapContentKey(p, identity) {
  const E = p.exportId;
  const ownFp = identity.x25519 ? hex(await sha256(identity.x25519.pub)) : null;
  for (const [idx, s] of p.header.recipients.entries()) {
    let kek = null;
    if (s.type === 'x25519' && identity.x25519) {
      if (p.V.boundFingerprints && p.manifest.recipients[idx].fingerprint !== ownFp) continue;
      const eph = unhex(s.ephemeral, 32);
      let shared;
      try {
        const ek = await crypto.subtle.importKey('raw', eph, { name: 'X25519' }, false, []);
        shared = new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: ek }, identity.x25519.priv, 256));
      } catch (e) {
        continue; // all-zero (non-contributory) result or unusable point
      }
      if (shared.every((x) => x === 0)) continue;
      kek = await hkdf(shared, concat(eph, identity.x25519.pub), concat(utf8(FORMAT.x25519Info), E), 32);
    } else if (s.type === 'argon2id' && identity.passphrase) {
      kek = await argon2id(identity.passphrase, unhex(s.salt, 16), s);
    }
    if (!kek) continue;
    const k = await gcmOpen(kek, new Uint8Array(12), E, unhex(s.wrapped_key, 48));
    if (k && k.length === 32) return k;
  }
  throw new Refusal('no-match', 'no matching identity or wrong passphrase');
}

// ---------------------------------------------------------------------------------------
// Decryption (FORMAT.md 2.1, 2.2), chunk by chunk.
// ---------------------------------------------------------------------------------------
const BLOB_PART = 16 << 20; // plaintext gathered into Blobs of this size

async function decryptPayload(p, index, offset, contentKey, progress) {
  const e = p.manifest.payloads[index];
  const cs = p.header.chunk_size;
  const okm = await hkdf(contentKey, p.exportId, concat(utf8(FORMAT.payloadInfo), u32be(index)), FORMAT.payloadOkm);
  const key = await crypto.subtle.importKey('raw', okm.slice(0, 32), 'AES-GCM', false, ['decrypt']);
  const prefix = okm.slice(32);
  const step = cs + FORMAT.tag;
  const chunks = Math.max(1, Math.ceil(e.plaintext_size / cs));
  const perRead = Math.max(1, Math.floor(READ_BYTES / step));
  // No second ciphertext hash here: verifyPackage hashed it against the signed value just
  // before, every chunk is authenticated, and the plaintext must hash to the signed value.
  const hout = await HASHWASM.createSHA256();
  const blobs = [];
  let part = [];
  let partBytes = 0;
  let outBytes = 0;
  const end = offset + e.ciphertext_size;
  // The next read runs while this one is decrypted and hashed.
  const readAt = (c) => prefetch(readSlice(p.file, offset + c * step, Math.min(end, offset + Math.min(chunks, c + perRead) * step)));
  let next = readAt(0);
  for (let c = 0; c < chunks; c += perRead) {
    const last = Math.min(chunks, c + perRead);
    const buf = await next;
    if (last < chunks) next = readAt(last);
    const jobs = [];
    for (let j = c; j < last; j++) {
      const iv = new Uint8Array(12);
      iv.set(prefix);
      iv.set(u32be(j), 7);
      iv[11] = j === chunks - 1 ? 1 : 0;
      jobs.push(crypto.subtle.decrypt({ name: 'AES-GCM', iv, tagLength: 128 }, key, buf.subarray((j - c) * step, Math.min(buf.length, (j - c + 1) * step))));
    }
    let outs;
    try {
      outs = await Promise.all(jobs);
    } catch (err) {
      throw damaged(`payload ${index + 1} ("${e.name}") failed authentication`);
    }
    for (const o of outs) {
      const u = new Uint8Array(o);
      hout.update(u);
      part.push(u);
      partBytes += u.length;
      outBytes += u.length;
    }
    if (partBytes >= BLOB_PART) {
      blobs.push(new Blob(part));
      part = [];
      partBytes = 0;
    }
    progress(Math.min(end, offset + last * step) - offset);
  }
  blobs.push(new Blob(part));
  if (outBytes !== e.plaintext_size || hout.digest('hex') !== e.plaintext_sha256) {
    throw damaged(`payload ${index + 1} ("${e.name}") does not match its signed hashes`);
  }
  return new Blob(blobs, { type: e.media_type });
}

/** Every payload; nothing is shown unless all of them pass. */
async function decryptAll(p, contentKey, progress) {
  const out = [];
  let off = p.payloadOffset;
  const total = p.manifest.payloads.reduce((a, x) => a + x.ciphertext_size, 0);
  let before = 0;
  for (let k = 0; k < p.manifest.payloads.length; k++) {
    const e = p.manifest.payloads[k];
    out.push({ entry: e, blob: await decryptPayload(p, k, off, contentKey, (n) => progress((before + n) / total)) });
    off += e.ciphertext_size;
    before += e.ciphertext_size;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The page.
// ---------------------------------------------------------------------------------------
const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  for (const c of kids) n.append(c);
  return n;
};
let current = null; // the verified package
let lastFile = null; // the package file chosen last
let lastPin = ''; // the fingerprint it was checked against
let urls = [];

function setStatus(id, state, text, kind) {
  const s = $(id);
  s.dataset.state = state;
  if (kind) s.dataset.kind = kind;
  else delete s.dataset.kind;
  s.textContent = text;
}
function refuse(id, err) {
  const kind = err instanceof Refusal ? err.kind : 'unsupported';
  const reason = err instanceof Refusal ? err.message : String(err && err.message ? err.message : err);
  setStatus(id, 'refused', `${T.refused} ${T.kind[kind]} (${reason}).`, kind);
}
function bar(id, f) {
  $(id).value = Math.round(1000 * f);
}

function applyTexts() {
  document.documentElement.lang = LANG;
  for (const n of document.querySelectorAll('[data-t]')) n.textContent = T[n.dataset.t];
}

const pinnedFingerprint = () => $('expected-fp').value.trim().toLowerCase().replace(/[^0-9a-f]/g, '');

async function onPackage(file) {
  current = null;
  lastFile = file;
  for (const u of urls) URL.revokeObjectURL(u);
  urls = [];
  $('unlock').hidden = true;
  $('results').hidden = true;
  $('details').hidden = true;
  $('files').replaceChildren();
  $('viewer').replaceChildren();
  setStatus('verify-status', 'busy', T.checking);
  $('fingerprint').textContent = '';
  $('signer-box').hidden = true;
  const pinned = pinnedFingerprint();
  lastPin = pinned;
  const t0 = performance.now();
  try {
    if (!(crypto && crypto.subtle)) throw new Error('WebCrypto is not available');
    const p = await verifyPackage(file, pinned, (f) => bar('verify-progress', f));
    current = p;
    $('fingerprint').textContent = p.manifest.signer.fingerprint;
    $('signer-box').hidden = false;
    showDetails(p);
    setStatus('verify-status', 'verified', pinned ? T.verifiedPinned : T.verified);
    $('unlock').hidden = false;
  } catch (err) {
    refuse('verify-status', err);
  }
  $('verify-status').dataset.ms = Math.round(performance.now() - t0);
}

function showDetails(p) {
  const m = p.manifest;
  const rows = [
    [T.reference, m.reference || '–'],
    [T.created, m.created],
    [T.expires, m.expires || T.never],
  ];
  const t = el('table');
  for (const [a, b] of rows) t.append(el('tr', {}, el('th', {}, a), el('td', {}, b)));
  const list = el('ul');
  for (const e of m.payloads) list.append(el('li', {}, `${e.name} (${e.media_type}, ${e.plaintext_size.toLocaleString(LANG)} ${T.bytes})`));
  $('details').replaceChildren(t, el('p', {}, T.files), list);
  $('details').hidden = false;
}

async function onDecrypt() {
  if (!current) return;
  const p = current;
  $('results').hidden = true;
  setStatus('decrypt-status', 'busy', T.decrypting);
  const t0 = performance.now();
  try {
    checkPortableNames(p.manifest.payloads);
    const pin = pinnedFingerprint();
    if (pin && pin !== p.manifest.signer.fingerprint) throw new Refusal('unknown-signer', `signed by ${p.manifest.signer.fingerprint}, not by the expected ${pin}`);
    const pass = utf8($('passphrase').value);
    const kf = $('keyfile').files[0];
    const identity = {};
    if (kf) identity.x25519 = await x25519Identity(await readKeyFile(await kf.text(), pass));
    else if (pass.length) identity.passphrase = pass;
    else throw new Refusal('no-match', 'enter the passphrase or choose your key file');
    const key = await unwrapContentKey(p, identity);
    const files = await decryptAll(p, key, (f) => bar('decrypt-progress', f));
    key.fill(0);
    if (current !== p) return; // another package was chosen meanwhile
    showFiles(files);
    setStatus('decrypt-status', 'decrypted', T.done);
  } catch (err) {
    refuse('decrypt-status', err);
  }
  $('decrypt-status').dataset.ms = Math.round(performance.now() - t0);
}

function showFiles(files) {
  const list = $('files');
  const viewer = $('viewer');
  list.replaceChildren();
  viewer.replaceChildren();
  for (const { entry, blob } of files) {
    const u = URL.createObjectURL(blob);
    urls.push(u);
    const a = el('a', { href: u, download: entry.name, class: 'save', 'data-name': entry.name }, `${T.save} ${entry.name}`);
    list.append(el('li', {}, a, ` (${entry.plaintext_size.toLocaleString(LANG)} ${T.bytes})`));
    const kind = VIEWERS[entry.media_type];
    if (kind === 'video') {
      viewer.append(el('h3', {}, entry.name), el('video', { src: u, controls: '', preload: 'metadata', 'data-name': entry.name }));
    } else if (kind === 'image') {
      viewer.append(el('h3', {}, entry.name), el('img', { src: u, alt: entry.name }));
    } else if (kind === 'report') {
      // Sandboxed: no scripts, no forms, an opaque origin; the page's CSP applies too.
      const frame = el('iframe', { sandbox: '', title: entry.name, id: 'report-frame' });
      blob.text().then((html) => (frame.srcdoc = html));
      viewer.prepend(el('h3', {}, T.report), frame);
    }
  }
  $('results').hidden = false;
}

function saveAll() {
  for (const a of document.querySelectorAll('a.save')) a.click();
}

function init() {
  applyTexts();
  const input = $('package');
  input.addEventListener('change', () => input.files[0] && onPackage(input.files[0]));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer.files[0];
    if (f) onPackage(f);
  });
  $('expected-fp').addEventListener('change', () => lastFile && pinnedFingerprint() !== lastPin && onPackage(lastFile));
  $('decrypt').addEventListener('click', onDecrypt);
  $('save-all').addEventListener('click', saveAll);
  document.body.dataset.ready = '1';
}

init();
