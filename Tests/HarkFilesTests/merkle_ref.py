# Independent reference for PROTOCOL.md §10.3: RFC 6962 MTH (recursive) with hark's domains.
# Prints the vectors MerkleTests checks. Run: python3 Tests/HarkFilesTests/merkle_ref.py
import hashlib, struct
def H(person, data): return hashlib.blake2b(data, digest_size=32, person=person).digest()
def chunk(d): return H(b"hark.chunk.v1", d)
def leaf(h): return H(b"hark.leaf.v1", b"\x00"+h)
def node(l,r): return H(b"hark.node.v1", b"\x01"+l+r)
def mth(hs):  # RFC 6962 recursive definition, independent of the level-wise Swift code
    if len(hs)==0: return bytes(32)
    if len(hs)==1: return leaf(hs[0])
    k=1
    while k*2 < len(hs): k*=2
    return node(mth(hs[:k]), mth(hs[k:]))
def fileroot(size, cs, tr): return H(b"hark.file.v1", b"\x02"+struct.pack("<QI", size, cs)+tr)
print("chunk(abc)", chunk(b"abc").hex())
for n in [1,2,3,5,7]:
    hs=[chunk(bytes([i])) for i in range(n)]
    print("tree", n, mth(hs).hex())
print("empty file root", fileroot(0, 65536, bytes(32)).hex())
hs=[chunk(bytes([i])) for i in range(3)]
print("file root 3", fileroot(3*65536-10, 65536, mth(hs)).hex())
print("manifest id of b''", H(b"hark.manifest.v1", b"").hex())
