#!/usr/bin/env python3
"""A second, independent implementation of the Obscura sealed export format, version 2.

Written from docs/FORMAT.md alone (no code shared with obscura-seal): a strict canonical-JSON
reader (section 4), the structural checks of sections 1, 3, 5 and 5.2, strict Ed25519
verification (section 6), key unwrapping (2.3) and STREAM decryption (2.1, 2.2), and a
writer of version-2 exports for X25519 recipients. Crypto comes from the `cryptography`
package (OpenSSL); the Edwards-point checks of section 6 are done here with integers.

    obx.py vectors DIR                         check every .vec file of DIR (section 10)
    obx.py verify FILE --signer PUB            exit 0 ok, 1 refused (kind and reason printed)
    obx.py open FILE --identity KEY -o DIR [--signer PUB]
    obx.py seal FILE... -o OUT --sign KEY --to PUB [--reference R] [--threshold NAME=DEC]

Refusals are `Refusal(kind, reason)` with the kinds of FORMAT.md section 10.
"""

import datetime
import hashlib
import os
import re
import struct
import sys
import unicodedata

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"\x89OBX\r\n\x1a\n"
END_MAGIC = b"OBX-END\n"
PREAMBLE, TRAILER, TAG = 14, 76, 16
MAX_HEADER, MAX_MANIFEST = 1 << 20, 16 << 20
SIG_CONTEXT = b"obscura-export-manifest-v2\x00"
SAFE = (1 << 53) - 1
DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?\Z")
MEDIA_PART = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}"
MEDIA_TYPE = re.compile(MEDIA_PART + "/" + MEDIA_PART + r"\Z")
CREATED = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z\Z")
DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")


class Refusal(Exception):
    """A refused export: `kind` is one of damaged, bad-signature, unknown-signer, expired, no-match."""

    def __init__(self, kind, reason):
        super().__init__(f"{kind}: {reason}")
        self.kind, self.reason = kind, reason


def damaged(why):
    return Refusal("damaged", why)


# ------------------------------------------------------------------ canonical JSON (section 4)
SHORT = {0x22: '"', 0x5C: "\\", 0x62: "\b", 0x66: "\f", 0x6E: "\n", 0x72: "\r", 0x74: "\t"}


def parse_canonical(data, what):
    """Parses canonical JSON under the version-2 rules, checking the grammar directly."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise damaged(f"{what} is not UTF-8")
    if text.startswith("\ufeff"):
        raise damaged(f"{what} starts with a byte order mark")
    pos = 0

    def bad(why):
        return damaged(f"{what} is not canonical ({why}) at byte {len(text[:pos].encode())}")

    def string():
        nonlocal pos
        if text[pos : pos + 1] != '"':
            raise bad("string expected")
        pos += 1
        out = []
        while True:
            if pos >= len(text):
                raise bad("unterminated string")
            c = text[pos]
            if c == '"':
                pos += 1
                return "".join(out)
            if ord(c) < 0x20:
                raise bad("raw control character")
            if c != "\\":
                out.append(c)
                pos += 1
                continue
            e = text[pos + 1 : pos + 2]
            if e and ord(e) in SHORT and e not in "/":
                out.append(SHORT[ord(e)])
                pos += 2
            elif e == "u":
                h = text[pos + 2 : pos + 6]
                if not re.fullmatch(r"00[01][0-9a-f]", h):
                    raise bad("\\u escape outside U+0000..U+001F or not lowercase")
                v = int(h, 16)
                if v in (0x08, 0x09, 0x0A, 0x0C, 0x0D):
                    raise bad("\\u escape where a short escape exists")
                out.append(chr(v))
                pos += 6
            else:
                raise bad("escape not allowed")

    def number():
        nonlocal pos
        m = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?").match(text, pos)
        if not m:
            raise bad("value expected")
        tok = m.group(0)
        if m.group(1) or m.group(2):
            raise bad(f"number {tok} is not an integer (version 2 has no floats)")
        if not re.fullmatch(r"0|-?[1-9][0-9]*", tok):
            raise bad(f"integer {tok} not in canonical form")
        n = int(tok)
        if abs(n) > SAFE:
            raise bad(f"integer {tok} out of range")
        pos = m.end()
        return n

    def value(depth):
        nonlocal pos
        if depth > 64:
            raise bad("nested too deeply")
        c = text[pos : pos + 1]
        if c == "{":
            pos += 1
            obj, prev = {}, None
            if text[pos : pos + 1] == "}":
                pos += 1
                return obj
            while True:
                k = string()
                kb = k.encode()
                if prev is not None and kb <= prev:
                    raise bad(f"key {k!r} out of order or duplicate")
                prev = kb
                if text[pos : pos + 1] != ":":
                    raise bad("':' expected")
                pos += 1
                obj[k] = value(depth + 1)
                s = text[pos : pos + 1]
                pos += 1
                if s == "}":
                    return obj
                if s != ",":
                    raise bad("',' or '}' expected")
        if c == "[":
            pos += 1
            arr = []
            if text[pos : pos + 1] == "]":
                pos += 1
                return arr
            while True:
                arr.append(value(depth + 1))
                s = text[pos : pos + 1]
                pos += 1
                if s == "]":
                    return arr
                if s != ",":
                    raise bad("',' or ']' expected")
        if c == '"':
            return string()
        for word, v in (("true", True), ("false", False)):
            if text.startswith(word, pos):
                pos += len(word)
                return v
        if text.startswith("null", pos):
            raise bad("null is never written")
        return number()

    v = value(0)
    if pos != len(text):
        raise bad("trailing bytes or whitespace")
    if not isinstance(v, dict):
        raise bad("not an object")
    return v


def encode_canonical(v):
    """The canonical encoding (section 4), for the writer."""
    if v is True:
        return b"true"
    if v is False:
        return b"false"
    if isinstance(v, int):
        assert abs(v) <= SAFE
        return str(v).encode()
    if isinstance(v, str):
        out = ['"']
        for ch in v:
            o = ord(ch)
            if o in (0x22, 0x5C):
                out.append("\\" + ch)
            elif ch in "\b\f\n\r\t":
                out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
            elif o < 0x20:
                out.append("\\u%04x" % o)
            else:
                out.append(ch)
        out.append('"')
        return "".join(out).encode()
    if isinstance(v, list):
        return b"[" + b",".join(encode_canonical(x) for x in v) + b"]"
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: kv[0].encode())
        return b"{" + b",".join(encode_canonical(k) + b":" + encode_canonical(x) for k, x in items) + b"}"
    raise TypeError(f"cannot encode {type(v)}")


# ------------------------------------------------------------------ structure (sections 1, 3, 5)
def is_hex(s, n):
    return isinstance(s, str) and len(s) == 2 * n and re.fullmatch("[0-9a-f]*", s) is not None


def is_int(v, lo, hi):
    return type(v) is int and lo <= v <= hi


def text_ok(s, limit):
    return isinstance(s, str) and 1 <= len(s.encode()) <= limit and not any(unicodedata.category(c) == "Cc" for c in s)


def closed(obj, required, optional=(), where="entry"):
    if not isinstance(obj, dict):
        raise damaged(f"{where} is not an object")
    for k in required:
        if k not in obj:
            raise damaged(f"{where}: missing {k}")
    for k in obj:
        if k not in required and k not in optional:
            raise damaged(f"{where}: unknown key {k!r}")


def ciphertext_size(p, chunk):
    return p + TAG * max(1, -(-p // chunk))


def valid_date(y, m, d):
    try:
        datetime.date(y, m, d)
    except ValueError:
        return False
    return 1970 <= y <= 9999


def check_name(n):
    if not isinstance(n, str) or not 1 <= len(n.encode()) <= 255 or n.startswith("."):
        return False
    return not any(c in "/\\" or unicodedata.category(c) == "Cc" for c in n)


def check_interval(i, where):
    closed(i, ("end", "start"), where=where)
    ts = []
    for side in ("start", "end"):
        t = i[side]
        closed(t, ("ticks", "time_base"), where=where)
        closed(t["time_base"], ("den", "num"), where=where)
        num, den = t["time_base"]["num"], t["time_base"]["den"]
        if not is_int(t["ticks"], -SAFE, SAFE) or not is_int(num, 1, 2**31 - 1) or not is_int(den, 1, 2**31 - 1):
            raise damaged(f"{where}: time base numerator and denominator must be at least 1")
        ts.append((t["ticks"], num, den))
    (a, an, ad), (b, bn, bd) = ts
    if not a * an * bd < b * bn * ad:
        raise damaged(f"{where}: interval start is not before its end")


def check_header(h, version):
    closed(h, ("chunk_size", "export_id", "payload_count", "recipients", "version"), where="header")
    if h["version"] != version:
        raise damaged("header version differs from the file's version")
    cs = h["chunk_size"]
    if not is_int(cs, 64, 16 << 20) or cs & (cs - 1):
        raise damaged("invalid chunk size")
    if not is_hex(h["export_id"], 16):
        raise damaged("malformed export id")
    if not is_int(h["payload_count"], 1, 65536):
        raise damaged("payload count out of range")
    st = h["recipients"]
    if not isinstance(st, list) or not 1 <= len(st) <= 256:
        raise damaged("0 or more than 256 stanzas")
    for s in st:
        if not isinstance(s, dict) or s.get("type") not in ("x25519", "argon2id"):
            raise damaged("unknown stanza type")
        if s["type"] == "x25519":
            closed(s, ("ephemeral", "type", "wrapped_key"), where="stanza")
            if not (is_hex(s["ephemeral"], 32) and is_hex(s["wrapped_key"], 48)):
                raise damaged("malformed recipient stanza")
        else:
            closed(s, ("m_kib", "p", "salt", "t", "type", "wrapped_key"), where="stanza")
            m, t, p = s["m_kib"], s["t"], s["p"]
            if not (is_int(p, 1, 4) and is_int(t, 1, 16) and is_int(m, 8 * p, 1048576) and is_hex(s["salt"], 16) and is_hex(s["wrapped_key"], 48)):
                raise damaged("malformed recipient stanza")
    n_pass = sum(s["type"] == "argon2id" for s in st)
    if n_pass > 1:
        raise damaged("more than one passphrase stanza")
    if n_pass and len(st) > 1:
        raise damaged("a passphrase stanza must be the only stanza in version 2")


def check_manifest(m, h, header_bytes, version):
    closed(
        m,
        ("cameras", "created", "export_id", "format_version", "header_sha256", "payloads", "recipients", "signer", "sources"),
        ("expires", "operator", "policy", "reference"),
        where="manifest",
    )
    if m["format_version"] != version:
        raise damaged("manifest version differs from the file's version")
    if m["export_id"] != h["export_id"]:
        raise damaged("manifest belongs to another export (export id differs)")
    if m["header_sha256"] != hashlib.sha256(header_bytes).hexdigest():
        raise damaged("manifest belongs to another header (header hash differs)")
    c = CREATED.match(m["created"]) if isinstance(m["created"], str) else None
    if not c or not valid_date(*map(int, c.groups()[:3])) or int(c[4]) > 23 or int(c[5]) > 59 or int(c[6]) > 59:
        raise damaged("malformed creation time")
    if "expires" in m:
        d = DATE.match(m["expires"]) if isinstance(m["expires"], str) else None
        if not d or not valid_date(*map(int, d.groups())):
            raise damaged("malformed expiry date")
    for k in ("reference", "operator"):
        if k in m and not text_ok(m[k], 1024):
            raise damaged(f"{k}: must be 1 to 1024 bytes without control characters")
    for s in m.get("sources", []):
        closed(s, ("name", "sha256"), where="source")
        if not text_ok(s["name"], 255) or not is_hex(s["sha256"], 32):
            raise damaged("malformed source (name of 1 to 255 bytes, sha256 hex)")
    if len(m.get("sources", [])) > 65536 or len(m.get("cameras", [])) > 65536:
        raise damaged("too many sources or cameras")
    for cam in m.get("cameras", []):
        closed(cam, ("camera", "excluded", "included"), where="camera")
        if not text_ok(cam["camera"], 255) or len(cam["included"]) > 65536 or len(cam["excluded"]) > 65536:
            raise damaged("malformed camera entry")
        for i in cam["included"] + cam["excluded"]:
            check_interval(i, f"camera {cam['camera']!r}")
    if "policy" in m:
        p = m["policy"]
        closed(p, ("detector_models", "extra", "kept_track_ids", "styles", "thresholds"), where="policy")
        for model in p.get("detector_models", []):
            closed(model, ("name", "sha256"), where="model")
            if not text_ok(model["name"], 255) or not is_hex(model["sha256"], 32):
                raise damaged("malformed model entry")
        for k, v in p.get("thresholds", {}).items():
            if not text_ok(k, 255) or not isinstance(v, str) or len(v) > 40 or not DECIMAL.match(v) or v == "-0":
                raise damaged(f"threshold {k!r} is not a canonical decimal string")
        for k, v in p.get("styles", {}).items():
            if not text_ok(k, 255) or not text_ok(v, 255):
                raise damaged("malformed style")
        for k in p.get("extra", {}):
            if not text_ok(k, 255):
                raise damaged("malformed policy key")
        ids = p.get("kept_track_ids", [])
        if len(ids) > 65536 or not all(is_int(i, 0, SAFE) for i in ids):
            raise damaged("malformed kept track ids")
    pays = m["payloads"]
    if not isinstance(pays, list) or len(pays) != h["payload_count"]:
        raise damaged("payload count differs between header and manifest")
    names = set()
    for e in pays:
        closed(e, ("ciphertext_sha256", "ciphertext_size", "media_type", "name", "plaintext_sha256", "plaintext_size"), where="payload")
        if not check_name(e["name"]):
            raise damaged("unsafe payload name")
        if e["name"] in names:
            raise damaged("duplicate payload name")
        names.add(e["name"])
        if not isinstance(e["media_type"], str) or not MEDIA_TYPE.match(e["media_type"]):
            raise damaged("invalid media type")
        if not is_int(e["plaintext_size"], 0, SAFE) or e["ciphertext_size"] != ciphertext_size(e["plaintext_size"], h["chunk_size"]):
            raise damaged("payload sizes inconsistent")
        if not is_hex(e["plaintext_sha256"], 32) or not is_hex(e["ciphertext_sha256"], 32):
            raise damaged("malformed payload hash")
    rs = m["recipients"]
    if not isinstance(rs, list) or len(rs) != len(h["recipients"]):
        raise damaged("recipient count differs between header and manifest")
    for s, r in zip(h["recipients"], rs):
        if s["type"] == "x25519":
            closed(r, ("fingerprint", "type"), where="recipient")
            ok = r["type"] == "x25519" and is_hex(r["fingerprint"], 32)
        else:
            closed(r, ("type",), where="recipient")
            ok = r["type"] == "argon2id"
        if not ok:
            raise damaged("malformed recipient stanza")
    sg = m["signer"]
    closed(sg, ("algorithm", "fingerprint", "public_key"), where="signer")
    if sg["algorithm"] != "ed25519" or not is_hex(sg["public_key"], 32) or sg["fingerprint"] != hashlib.sha256(bytes.fromhex(sg["public_key"])).hexdigest():
        raise damaged("malformed signer entry")


# ------------------------------------------------------------------ strict Ed25519 (section 6)
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def decode_point(b):
    """RFC 8032 5.1.3 with a canonical y; None when not a point."""
    y = int.from_bytes(b, "little") & ((1 << 255) - 1)
    sign = b[31] >> 7
    if y >= P:
        return None
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if v * x * x % P == (-u) % P:
        x = x * SQRT_M1 % P
    elif v * x * x % P != u:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


def point_add(p, q):
    (x1, y1, z1, t1), (x2, y2, z2, t2) = p, q
    a, b = (y1 - x1) * (y2 - x2) % P, (y1 + x1) * (y2 + x2) % P
    c, d = 2 * t1 * t2 * D % P, 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def small_order(pt):
    q = pt
    for _ in range(3):
        q = point_add(q, q)
    x, y, z, _ = q
    return x % P == 0 and (y - z) % P == 0


def verify_strict(pk, sig, msg):
    s = int.from_bytes(sig[32:], "little")
    a, r = decode_point(pk), decode_point(sig[:32])
    if s >= L or a is None or r is None or small_order(a) or small_order(r):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(pk).verify(sig, msg)  # cofactorless, as RFC 8032 in OpenSSL
        return True
    except InvalidSignature:
        return False


# ------------------------------------------------------------------ reading
def parse_file(path):
    with open(path, "rb") as f:
        data = f.read()
    n = len(data)
    if n < PREAMBLE + 2 + 2 + TRAILER:
        raise damaged("truncated (too short)" if data[:8] == MAGIC[: len(data[:8])] else "not an Obscura export (bad magic)")
    if data[:8] != MAGIC:
        raise damaged("not an Obscura export (bad magic)")
    version, h_len = struct.unpack(">HI", data[8:14])
    if version != 2:
        raise damaged(f"unsupported format version {version} (this reader reads version 2)")
    if not 2 <= h_len <= MAX_HEADER or PREAMBLE + h_len + 2 + TRAILER > n:
        raise damaged("header length out of bounds")
    if data[-8:] != END_MAGIC:
        raise damaged("truncated or extended (no end marker)")
    (m_len,) = struct.unpack(">I", data[-12:-8])
    if not 2 <= m_len <= MAX_MANIFEST or PREAMBLE + h_len + m_len + TRAILER > n:
        raise damaged("manifest length out of bounds")
    header_bytes = data[PREAMBLE : PREAMBLE + h_len]
    header = parse_canonical(header_bytes, "header")
    check_header(header, version)
    m_off = n - TRAILER - m_len
    manifest_bytes, sig = data[m_off : m_off + m_len], data[m_off + m_len : m_off + m_len + 64]
    manifest = parse_canonical(manifest_bytes, "manifest")
    check_manifest(manifest, header, header_bytes, version)
    total = sum(e["ciphertext_size"] for e in manifest["payloads"])
    if PREAMBLE + h_len + total + m_len + TRAILER != n:
        raise damaged("file length differs from what its manifest describes")
    return dict(data=data, header=header, manifest=manifest, manifest_bytes=manifest_bytes, sig=sig, payload_offset=PREAMBLE + h_len)


def check_signature(x, signer):
    pk = bytes.fromhex(x["manifest"]["signer"]["public_key"])
    if not verify_strict(pk, x["sig"], SIG_CONTEXT + x["manifest_bytes"]):
        raise Refusal("bad-signature", "the signature does not verify")
    if signer is not None and pk != signer:
        raise Refusal("unknown-signer", f"signed by {hashlib.sha256(pk).hexdigest()}, not the required signer")


def check_expiry(m):
    if "expires" in m and m["expires"] < datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"):
        raise Refusal("expired", f"expired on {m['expires']}")


def verify(path, signer):
    x = parse_file(path)
    check_signature(x, signer)
    off = x["payload_offset"]
    for i, e in enumerate(x["manifest"]["payloads"]):
        if hashlib.sha256(x["data"][off : off + e["ciphertext_size"]]).hexdigest() != e["ciphertext_sha256"]:
            raise damaged(f"payload {i + 1} does not match its signed hash")
        off += e["ciphertext_size"]
    check_expiry(x["manifest"])
    return x


def hkdf(ikm, salt, info, n):
    return HKDF(algorithm=hashes.SHA256(), length=n, salt=salt, info=info).derive(ikm)


def unwrap(x, identity):
    eid = bytes.fromhex(x["header"]["export_id"])
    for s, r in zip(x["header"]["recipients"], x["manifest"]["recipients"]):
        kek = None
        if s["type"] == "x25519" and identity[0] == "x25519":
            sk = identity[1]
            own = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            if r["fingerprint"] != hashlib.sha256(own).hexdigest():
                continue  # version 2: fingerprints are bound to their stanzas (2.3)
            eph = bytes.fromhex(s["ephemeral"])
            try:
                shared = sk.exchange(X25519PublicKey.from_public_bytes(eph))
            except ValueError:
                continue
            if shared == bytes(32):
                continue
            kek = hkdf(shared, eph + own, b"obscura/v1/x25519" + eid, 32)
        elif s["type"] == "argon2id" and identity[0] == "passphrase":
            kek = Argon2id(salt=bytes.fromhex(s["salt"]), length=32, iterations=s["t"], lanes=s["p"], memory_cost=s["m_kib"]).derive(identity[1])
        if kek is None:
            continue
        try:
            k = AESGCM(kek).decrypt(bytes(12), bytes.fromhex(s["wrapped_key"]), eid)
        except InvalidTag:
            continue
        if len(k) == 32:
            return k
    raise Refusal("no-match", "no matching identity or wrong passphrase")


def stream(key, eid, index, data, chunk, encrypt):
    okm = hkdf(key, eid, b"obscura/v1/payload" + struct.pack(">I", index), 39)
    aead, prefix = AESGCM(okm[:32]), okm[32:]
    step = chunk if encrypt else chunk + TAG
    pieces = [data[i : i + step] for i in range(0, len(data), step)] or [b""]
    out = []
    for n, piece in enumerate(pieces):
        nonce = prefix + struct.pack(">I", n) + (b"\x01" if n == len(pieces) - 1 else b"\x00")
        out.append(aead.encrypt(nonce, piece, None) if encrypt else aead.decrypt(nonce, piece, None))
    return b"".join(out)


PORTABLE_BAD = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2069\ufeff<>:\"|?*]")
RESERVED = re.compile("(CON|PRN|AUX|NUL|CONIN\\$|CONOUT\\$|COM[0-9\u00b9\u00b2\u00b3]|LPT[0-9\u00b9\u00b2\u00b3])\\Z")


def open_export(path, identity, out_dir, signer):
    x = verify(path, signer)
    m = x["manifest"]
    folded = set()
    for e in m["payloads"]:
        n = e["name"]
        if PORTABLE_BAD.search(n) or n.endswith((" ", ".")) or RESERVED.match(n.split(".")[0].rstrip(" ").upper()):
            raise Refusal("invalid", f"payload name {n!r} may not be created (section 5.1)")
        key = unicodedata.normalize("NFC", unicodedata.normalize("NFC", n).lower())
        if key in folded:
            raise Refusal("invalid", f"payload name {n!r} collides after case folding")
        folded.add(key)
        if os.path.lexists(os.path.join(out_dir, n)):
            raise Refusal("invalid", f"{n} already exists")
    k = unwrap(x, identity)
    eid, off, plain = bytes.fromhex(x["header"]["export_id"]), x["payload_offset"], []
    for i, e in enumerate(m["payloads"]):
        try:
            p = stream(k, eid, i, x["data"][off : off + e["ciphertext_size"]], x["header"]["chunk_size"], False)
        except InvalidTag:
            raise damaged("payload failed authentication")
        if len(p) != e["plaintext_size"] or hashlib.sha256(p).hexdigest() != e["plaintext_sha256"]:
            raise damaged("payload does not match its signed hashes")
        plain.append(p)
        off += e["ciphertext_size"]
    written = []
    for e, p in zip(m["payloads"], plain):  # names only once every payload has passed
        fd = os.open(os.path.join(out_dir, e["name"]), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(p)
        written.append(e["name"])
    return written


# ------------------------------------------------------------------ writing (version 2)
def seal(files, out, signing_key, recipients, reference=None, thresholds=None, chunk=65536):
    eid, key = os.urandom(16), os.urandom(32)
    stanzas, entries = [], []
    for r in recipients:
        e = X25519PrivateKey.generate()
        e_pub = e.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        shared = e.exchange(X25519PublicKey.from_public_bytes(r))
        kek = hkdf(shared, e_pub + r, b"obscura/v1/x25519" + eid, 32)
        stanzas.append({"type": "x25519", "ephemeral": e_pub.hex(), "wrapped_key": AESGCM(kek).encrypt(bytes(12), key, eid).hex()})
        entries.append({"type": "x25519", "fingerprint": hashlib.sha256(r).hexdigest()})
    header = encode_canonical({"chunk_size": chunk, "export_id": eid.hex(), "payload_count": len(files), "recipients": stanzas, "version": 2})
    payloads, cts = [], []
    for i, (name, media_type, data) in enumerate(files):
        ct = stream(key, eid, i, data, chunk, True)
        cts.append(ct)
        payloads.append({"name": name, "media_type": media_type, "plaintext_size": len(data), "plaintext_sha256": hashlib.sha256(data).hexdigest(), "ciphertext_size": len(ct), "ciphertext_sha256": hashlib.sha256(ct).hexdigest()})
    pk = signing_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    manifest = {
        "format_version": 2,
        "export_id": eid.hex(),
        "header_sha256": hashlib.sha256(header).hexdigest(),
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sources": [],
        "cameras": [],
        "payloads": payloads,
        "recipients": entries,
        "signer": {"algorithm": "ed25519", "public_key": pk.hex(), "fingerprint": hashlib.sha256(pk).hexdigest()},
    }
    if reference:
        manifest["reference"] = reference
    if thresholds:
        manifest["policy"] = {"detector_models": [], "extra": {}, "kept_track_ids": [], "styles": {}, "thresholds": thresholds}
    mb = encode_canonical(manifest)
    sig = signing_key.sign(SIG_CONTEXT + mb)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(MAGIC + struct.pack(">HI", 2, len(header)) + header + b"".join(cts) + mb + sig + struct.pack(">I", len(mb)) + END_MAGIC)


# ------------------------------------------------------------------ key files (section 8) and CLI
def key_line(text, prefix):
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if len(lines) != 1 or not lines[0].startswith(prefix + ":") or not is_hex(lines[0][len(prefix) + 1 :], 32):
        raise ValueError(f"not a {prefix} key")
    return bytes.fromhex(lines[0][len(prefix) + 1 :])


def load(path):
    with open(path) as f:
        return f.read()


def run_vectors(folder):
    failures, count = 0, 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".vec"):
            continue
        raw = open(os.path.join(folder, name), "rb").read()
        sep = raw.index(b"\n---\n") + 5
        meta, body = {}, raw[sep:]
        payloads = []
        for line in raw[:sep].decode().splitlines()[1:]:
            if ": " in line:
                k, v = line.split(": ", 1)
                if k == "payload":
                    payloads.append(v.split(" ", 1))
                else:
                    meta[k] = v
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            f = os.path.join(tmp, "x.obx")
            open(f, "wb").write(body)
            signer = key_line(meta["signer"], "obscura-sign-public-1")
            if "identity" in meta:
                ident = ("x25519", X25519PrivateKey.from_private_bytes(key_line(meta["identity"], "obscura-recipient-secret-1")))
            else:
                ident = ("passphrase", meta["passphrase"].encode())
            got = []
            for step in ("verify", "open"):
                out = os.path.join(tmp, "out-" + step)
                os.mkdir(out)
                try:
                    if step == "verify":
                        verify(f, signer)
                    else:
                        written = open_export(f, ident, out, signer)
                        for n, h in payloads:
                            assert hashlib.sha256(open(os.path.join(out, n), "rb").read()).hexdigest() == h, n
                        assert sorted(written) == sorted(n for n, _ in payloads)
                    got.append("ok")
                except Refusal as r:
                    got.append(r.kind)
                    assert not os.listdir(out), f"{name}: {step} left files"
            want = [meta["expect-verify"], meta["expect-open"]]
            count += 1
            if got != want:
                failures += 1
                print(f"MISMATCH {name}: got verify={got[0]} open={got[1]}, expected {want[0]}/{want[1]}")
    print(f"interop: {count - failures} of {count} vectors in {folder} give the expected outcome")
    return failures == 0 and count > 0


def main(argv):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("vectors")
    v.add_argument("dir")
    v = sub.add_parser("verify")
    v.add_argument("file")
    v.add_argument("--signer", required=True)
    o = sub.add_parser("open")
    o.add_argument("file")
    o.add_argument("--identity", required=True)
    o.add_argument("-o", dest="out", required=True)
    o.add_argument("--signer")
    s = sub.add_parser("seal")
    s.add_argument("files", nargs="+")
    s.add_argument("-o", dest="out", required=True)
    s.add_argument("--sign", required=True)
    s.add_argument("--to", action="append", required=True)
    s.add_argument("--reference")
    s.add_argument("--threshold", action="append", default=[])
    a = ap.parse_args(argv)
    try:
        if a.cmd == "vectors":
            return 0 if run_vectors(a.dir) else 1
        if a.cmd == "verify":
            x = verify(a.file, key_line(load(a.signer), "obscura-sign-public-1"))
            print(f"ok: {len(x['manifest']['payloads'])} payloads, signer {x['manifest']['signer']['fingerprint']}")
            return 0
        if a.cmd == "open":
            sk = X25519PrivateKey.from_private_bytes(key_line(load(a.identity), "obscura-recipient-secret-1"))
            signer = key_line(load(a.signer), "obscura-sign-public-1") if a.signer else None
            for n in open_export(a.file, ("x25519", sk), a.out, signer):
                print(f"wrote {n}")
            return 0
        if a.cmd == "seal":
            sk = Ed25519PrivateKey.from_private_bytes(key_line(load(a.sign), "obscura-sign-secret-1"))
            rs = [key_line(load(t), "obscura-recipient-public-1") for t in a.to]
            files = [(os.path.basename(f), "application/octet-stream", open(f, "rb").read()) for f in a.files]
            th = dict(t.split("=", 1) for t in a.threshold)
            seal(files, a.out, sk, rs, reference=a.reference, thresholds=th or None)
            print(f"sealed {a.out}")
            return 0
    except Refusal as r:
        print(f"refused ({r.kind}): {r.reason}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
