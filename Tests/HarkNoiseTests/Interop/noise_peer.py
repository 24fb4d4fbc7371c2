#!/usr/bin/env python3
"""Independent Noise peer for HarkNoise's interop tests.

Uses the PyPI package `noiseprotocol` 0.3.1 (https://github.com/plizonczyk/noiseprotocol),
an implementation unrelated to HarkNoise, to run Noise_XX_25519_ChaChaPoly_SHA256.

Modes
-----
peer --role initiator|responder --prologue HEX [--static HEX32]
    Listens on 127.0.0.1 only, on an ephemeral port, and prints "PORT <n>" on stdout.
    Accepts ONE connection. Every Noise message travels as a 2-byte big-endian length
    followed by that many bytes. Script of the exchange (i = message number from 1):
      handshake: this side sends payload b"py-hs-<i>", expects b"swift-hs-<i>" from Swift.
      transport: receives COUNT (first transport message, decimal ASCII) and then COUNT
      messages from Swift; answers each with encrypt(b"echo:" + plaintext); finally sends one
      message of 65519 bytes (the largest plaintext) b"\\xab" * 65519.
    Ends by printing one JSON line: {"ok": true, "handshake_hash": hex, "local_static": hex,
    "remote_static": hex, "received": [hex, ...]} or {"ok": false, "error": "..."} (exit 1).
    Gives up after 20 s (SIGALRM) so a stuck test never leaves it running.

kat
    Runs a handshake between two noiseprotocol instances with fixed keys and prints a JSON
    known-answer vector, plus the initiator's transport message number 65536 (the first after
    hark's automatic Rekey) (used to produce Interop/xx_25519_chachapoly_sha256.kat.json).
"""
import argparse
import json
import signal
import socket
import struct
import sys

from noise.connection import Keypair, NoiseConnection

PROTOCOL = b"Noise_XX_25519_ChaChaPoly_SHA256"
TIME_LIMIT_S = 20


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("peer closed the connection after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def recv_frame(sock):
    (length,) = struct.unpack(">H", recv_exact(sock, 2))
    return recv_exact(sock, length)


def send_frame(sock, data):
    data = bytes(data)
    if len(data) > 65535:
        raise ValueError("frame of %d bytes exceeds 65535" % len(data))
    sock.sendall(struct.pack(">H", len(data)) + data)


def run_peer(args):
    conn = NoiseConnection.from_name(PROTOCOL)
    initiator = args.role == "initiator"
    if initiator:
        conn.set_as_initiator()
    else:
        conn.set_as_responder()
    conn.set_prologue(bytes.fromhex(args.prologue))
    if args.static:
        conn.set_keypair_from_private_bytes(Keypair.STATIC, bytes.fromhex(args.static))
    else:
        import os
        conn.set_keypair_from_private_bytes(Keypair.STATIC, os.urandom(32))
    conn.start_handshake()
    hs = conn.noise_protocol.handshake_state   # kept: noiseprotocol deletes it when done
    local_static = hs.s.public_bytes

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    print("PORT %d" % listener.getsockname()[1], flush=True)
    sock, _ = listener.accept()
    listener.close()

    received = []
    for i in (1, 2, 3):
        we_write = (i % 2 == 1) == initiator
        if we_write:
            send_frame(sock, conn.write_message(b"py-hs-%d" % i))
        else:
            payload = bytes(conn.read_message(recv_frame(sock)))
            received.append(payload.hex())
            if payload != b"swift-hs-%d" % i:
                raise ValueError("handshake payload %d was %r" % (i, payload))
    if not conn.handshake_finished:
        raise RuntimeError("noiseprotocol did not finish the handshake after 3 messages")

    count = int(conn.decrypt(recv_frame(sock)).decode("ascii"))
    for _ in range(count):
        plaintext = conn.decrypt(recv_frame(sock))
        received.append(plaintext.hex())
        send_frame(sock, conn.encrypt(b"echo:" + plaintext))
    send_frame(sock, conn.encrypt(b"\xab" * 65519))
    sock.close()

    print(json.dumps({
        "ok": True,
        "handshake_hash": conn.get_handshake_hash().hex(),
        "local_static": local_static.hex(),
        "remote_static": hs.rs.public_bytes.hex(),
        "received": received,
    }), flush=True)


def run_kat():
    # Key material and payloads of the cacophony test vectors (public domain,
    # https://github.com/haskell-cryptography/cacophony, vectors/cacophony.txt).
    keys = {
        "prologue": "4a6f686e2047616c74",
        "init_static": "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1",
        "init_ephemeral": "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a",
        "resp_static": "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893",
        "resp_ephemeral": "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b",
    }
    payloads = ["4c756477696720766f6e204d69736573", "4d757272617920526f746862617264",
                "462e20412e20486179656b", "4361726c204d656e676572",
                "4a65616e2d426170746973746520536179", "457567656e2042f6686d20766f6e2042617765726b"]
    sides = []
    for role in ("init", "resp"):
        c = NoiseConnection.from_name(PROTOCOL)
        c.set_as_initiator() if role == "init" else c.set_as_responder()
        c.set_prologue(bytes.fromhex(keys["prologue"]))
        c.set_keypair_from_private_bytes(Keypair.STATIC, bytes.fromhex(keys[role + "_static"]))
        c.set_keypair_from_private_bytes(Keypair.EPHEMERAL, bytes.fromhex(keys[role + "_ephemeral"]))
        c.start_handshake()
        sides.append(c)
    init, resp = sides
    messages = []
    for i, p in enumerate(payloads):
        sender, receiver = (init, resp) if i % 2 == 0 else (resp, init)
        if i < 3:
            ct = bytes(sender.write_message(bytes.fromhex(p)))
            pt = bytes(receiver.read_message(ct))
        else:
            ct = sender.encrypt(bytes.fromhex(p))
            pt = receiver.decrypt(ct)
        assert pt.hex() == p
        messages.append({"payload": p, "ciphertext": ct.hex()})
    assert init.get_handshake_hash() == resp.get_handshake_hash()
    # hark's rule: Rekey() after every 2^16 messages of one direction. The initiator has sent one
    # transport message (nonce 0, the 5th message); send empty ones with nonces 1...65535, rekey,
    # then one more under nonce 65536.
    for _ in range(1, 65536):
        resp.decrypt(init.encrypt(b""))
    init.rekey_outbound_cipher()
    resp.rekey_inbound_cipher()
    after = bytes.fromhex(payloads[0])
    assert init.noise_protocol.cipher_state_encrypt.n == 65536
    ct = init.encrypt(after)
    assert resp.decrypt(ct) == after
    vector = {"name": PROTOCOL.decode(), **keys, "messages": messages,
              "handshake_hash": init.get_handshake_hash().hex(),
              "initiator_message_65536_after_rekey": {"payload": after.hex(), "ciphertext": ct.hex()}}
    print(json.dumps(vector, indent=2))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    peer = sub.add_parser("peer")
    peer.add_argument("--role", choices=["initiator", "responder"], required=True)
    peer.add_argument("--prologue", default="")
    peer.add_argument("--static", default="")
    sub.add_parser("kat")
    args = parser.parse_args()

    signal.signal(signal.SIGALRM, lambda *_: (print(json.dumps({"ok": False, "error": "timed out after %d s" % TIME_LIMIT_S}), flush=True), sys.exit(2)))
    signal.alarm(TIME_LIMIT_S)
    try:
        run_peer(args) if args.mode == "peer" else run_kat()
    except Exception as exc:  # report to the Swift side, which fails the test with this text
        print(json.dumps({"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}), flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
