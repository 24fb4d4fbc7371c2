# Independent reference for PROTOCOL.md §9.2 chunk slices (Python hashlib + cryptography/OpenSSL).
# Prints the sealed attachments BulkAEADTests checks. Run: python3 Tests/HarkCryptoTests/bulk_ref.py
import hashlib, struct
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

file_key = bytes(range(32))
salt = bytes(range(100, 116))
ad = b"hark.c" + b"\xab" * 32 + struct.pack("<II", 5, 262144)
plain = b"hark bulk slice"
for person, aead in [(b"hark.aesgcm.v1", AESGCM), (b"hark.chacha.v1", ChaCha20Poly1305)]:
    slice_key = hashlib.blake2b(salt, digest_size=32, key=file_key, person=person).digest()
    print(person.decode(), "slice key", slice_key.hex())
    print(person.decode(), "attachment", aead(slice_key).encrypt(bytes(12), plain, ad).hex())
