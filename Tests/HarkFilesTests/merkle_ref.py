# Independent reference for PROTOCOL.md §8.3: RFC 6962 MTH (recursive) with hark's domains,
# for both hash algorithms of a manifest (SHA-256, and BLAKE2b-256 for manifests without the
# field). Prints the vectors MerkleTests checks. Run: python3 Tests/HarkFilesTests/merkle_ref.py
import hashlib, struct

def algorithms():
    def blake(person):
        return lambda data: hashlib.blake2b(data, digest_size=32, person=person).digest()
    sha = lambda data: hashlib.sha256(data).digest()
    yield "sha256", dict(chunk=sha, leaf=sha, node=sha, file=sha)
    yield "blake2b", dict(chunk=blake(b"hark.chunk.v1"), leaf=blake(b"hark.leaf.v1"),
                          node=blake(b"hark.node.v1"), file=blake(b"hark.file.v1"))

for name, H in algorithms():
    chunk = H["chunk"]
    leaf = lambda h: H["leaf"](b"\x00" + h)
    node = lambda l, r: H["node"](b"\x01" + l + r)
    def mth(hs):  # RFC 6962 recursive definition, independent of the level-wise Swift code
        if len(hs) == 0: return bytes(32)
        if len(hs) == 1: return leaf(hs[0])
        k = 1
        while k * 2 < len(hs): k *= 2
        return node(mth(hs[:k]), mth(hs[k:]))
    fileroot = lambda size, cs, tr: H["file"](b"\x02" + struct.pack("<QI", size, cs) + tr)
    print(name, "chunk(abc)", chunk(b"abc").hex())
    for n in [1, 2, 3, 5, 7]:
        hs = [chunk(bytes([i])) for i in range(n)]
        print(name, "tree", n, mth(hs).hex())
    print(name, "empty file root", fileroot(0, 65536, bytes(32)).hex())
    hs = [chunk(bytes([i])) for i in range(3)]
    print(name, "file root 3", fileroot(3 * 65536 - 10, 65536, mth(hs)).hex())
print("manifest id of b''", hashlib.blake2b(b"", digest_size=32, person=b"hark.manifest.v1").hexdigest())

# A whole SHA-256 manifest, encoded by hand (protobuf wire format, fields in number order as
# swift-protobuf's deterministic ordering writes them): one file "abc" holding b"abc", mode 0o644,
# chunk size 65536. FileManifest{format=1, entries=[…], hash_algorithm=SHA256 (1)}.
def varint(n):
    out = b""
    while True:
        b = n & 0x7F; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def field(num, wire, payload):
    key = varint(num << 3 | wire)
    return key + (varint(payload) if wire == 0 else varint(len(payload)) + payload)
sha = lambda d: hashlib.sha256(d).digest()
h = sha(b"abc")
root = sha(b"\x02" + struct.pack("<QI", 3, 65536) + sha(b"\x00" + h))
entry = field(1, 2, b"abc") + field(2, 0, 3) + field(3, 0, 0o644) + field(4, 0, 65536) + field(5, 2, h) + field(6, 2, root)
manifest = field(1, 0, 1) + field(2, 2, entry) + field(3, 0, 1)
print("sha256 manifest", manifest.hex())
print("sha256 manifest id", hashlib.blake2b(manifest, digest_size=32, person=b"hark.manifest.v1").hexdigest())
