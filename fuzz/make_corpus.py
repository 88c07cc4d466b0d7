#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ (run from anywhere; idempotent).

Packet seeds are real IPv4 packets built here with correct checksums; program seeds for the structured
targets follow the ByteReader layout their target file documents (one choice byte after another, so a
short seed already names a configuration, a direction and a few operations). Text seeds are the bundled
DUT profiles, the documented expectation example and reference specs."""
import pathlib
import shutil
import struct

ROOT = pathlib.Path(__file__).resolve().parent
REPO = ROOT.parent
CORPUS = ROOT / "corpus"


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def addr(text: str) -> bytes:
    return bytes(int(part) for part in text.split("."))


def ipv4(src, dst, proto, payload, ident=0x1234, ttl=64, flags_offset=0, options=b"", tos=0):
    options += b"\0" * (-len(options) % 4)
    ihl = 5 + len(options) // 4
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, 4 * ihl + len(payload), ident, flags_offset, ttl,
                         proto, 0, addr(src), addr(dst)) + options
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def pseudo(src, dst, proto, length):
    return addr(src) + addr(dst) + struct.pack("!BBH", 0, proto, length)


def udp(src, sport, dst, dport, payload=b"probe", **ip):
    segment = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    value = checksum(pseudo(src, dst, 17, len(segment)) + segment) or 0xFFFF
    return ipv4(src, dst, 17, segment[:6] + struct.pack("!H", value) + segment[8:], **ip)


def tcp(src, sport, dst, dport, flags, seq=1000, ack=0, options=b"", payload=b"", **ip):
    options += b"\0" * (-len(options) % 4)
    offset = (5 + len(options) // 4) << 4
    segment = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset, flags, 65535, 0, 0) + options + payload
    value = checksum(pseudo(src, dst, 6, len(segment)) + segment)
    return ipv4(src, dst, 6, segment[:16] + struct.pack("!H", value) + segment[18:], **ip)


def icmp(src, dst, icmp_type, code, rest, body=b"", **ip):
    message = struct.pack("!BBHI", icmp_type, code, 0, rest) + body
    message = message[:2] + struct.pack("!H", checksum(message)) + message[4:]
    return ipv4(src, dst, 1, message, **ip)


def write(target, name, data):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def packet_seeds():
    inside, outside, external = "10.0.0.10", "198.51.100.10", "203.0.113.1"
    probe = udp(inside, 4000, outside, 53)
    syn = tcp(inside, 4001, outside, 80, 0x02, options=bytes([2, 4, 5, 0xB4, 4, 2, 8, 10]) + bytes(8) + bytes([1, 3, 3, 7]))
    seeds = {
        "udp": probe,
        "udp-zero-checksum": ipv4(inside, outside, 17, struct.pack("!HHHH", 4000, 53, 13, 0) + b"probe"),
        "tcp-syn-options": syn,
        "tcp-data": tcp(outside, 80, external, 4001, 0x18, seq=7, ack=1001, payload=b"HTTP/1.0 200 OK\r\n"),
        "echo-request": icmp(inside, outside, 8, 0, 0x0FA20001, b"ping"),
        "echo-reply": icmp(outside, external, 0, 0, 0x0FA20001, b"ping"),
        "port-unreachable": icmp(outside, external, 3, 3, 0, udp(external, 4000, outside, 53)[:28]),
        "frag-needed": icmp("192.0.2.50", external, 3, 4, 1400, tcp(external, 4001, outside, 80, 0x10)),
        "time-exceeded-options": icmp("192.0.2.50", external, 11, 0, 0,
                                      udp(external, 4000, outside, 53, options=bytes([7, 7, 4]) + bytes(4))[:40]),
        "error-about-error": icmp("192.0.2.50", external, 11, 0, 0,
                                  icmp(external, outside, 3, 3, 0, probe[:28])[:56]),
        "ip-options-rr": udp(inside, 4000, outside, 53, options=bytes([7, 11, 4]) + bytes(8)),
        "first-fragment": ipv4(inside, outside, 17, probe[20:36], flags_offset=0x2000),
        "later-fragment": ipv4(inside, outside, 17, b"fragment", flags_offset=0x0002),
        "esp": ipv4(inside, outside, 50, bytes(16)),
    }
    for target in ("parse_packet", "libtins_diff"):
        for name, data in seeds.items():
            write(target, name, data)


def program_seeds():
    # translation_roundtrip: config, protocol, host, sport(2), remote, dport(2), ttl, tos, id(2), DF,
    # options(len+bytes), zero-udp, seq(4), window(2), tcp options(len), payload(len+bytes), reply...
    for config in range(8):
        for protocol in range(3):
            write("translation_roundtrip", f"c{config}-p{protocol}",
                  bytes([config, protocol, 0, 0x0F, 0xA0, 0, 0, 53, 64, 0, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF,
                         0, 5]) + b"hello" + bytes([0x56, 0x78, 5]) + b"world")
    # icmp_error: config, from-outside, flow, quote length, damage count, fix checksums, extension, type...
    for config in range(6):
        for flow in range(3):
            write("icmp_error", f"c{config}-f{flow}-out", bytes([config, 1, flow, 0xFF, 0, 0, 0, 0, 3, 64, 0, 0, 0, 0, 0, 0]))
            write("icmp_error", f"c{config}-f{flow}-in", bytes([config, 0, flow, 4, 1, 30, 0x40, 1, 0, 0, 3, 64, 0]))
    # fragments: inbound policy, outbound policy, preserve ids, no eviction, small mtu, direction, echo, id,
    # options, body size, count, then per fragment offset/length/MF/id/damage/advance.
    write("fragments", "in-order-udp", bytes([0, 0, 0, 0, 0, 1, 0, 0x12, 0x34, 0, 20, 3,
                                              0, 40, 1, 1, 1, 0, 20, 40, 1, 1, 1, 0, 40, 40, 0, 1, 1, 0]))
    write("fragments", "reversed-reassemble", bytes([1, 1, 0, 0, 0, 1, 0, 0x22, 0x22, 0, 20, 3,
                                                     40, 40, 0, 1, 1, 0, 20, 40, 1, 1, 1, 0, 0, 40, 1, 1, 1, 0]))
    write("fragments", "outbound-echo-overlap", bytes([0, 0, 1, 0, 1, 0, 1, 0x33, 0x33, 0, 10, 4,
                                                       0, 30, 1, 1, 1, 1, 50, 8, 1, 20, 1, 1, 1, 0, 8, 60, 0, 1, 1, 0]))
    # nat_state: config, then operations (0-2 inside udp/tcp/echo, 3-5 outside, 6-7 clock advance).
    for config in range(10):
        write("nat_state", f"c{config}-udp-reply-expire",
              bytes([config, 0, 0, 4, 1, 2, 0, 3, 0, 3, 1, 1, 6, 7, 3, 0, 3, 1, 1]))
        write("nat_state", f"c{config}-tcp-handshake",
              bytes([config, 1, 0, 1, 0, 1, 0, 0, 0, 0, 4, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 2, 6, 8, 4, 2, 1, 0, 1, 0, 0, 1]))
        write("nat_state", f"c{config}-echo-hairpin",
              bytes([config, 2, 0, 4, 0, 2, 0, 2, 1, 2, 0, 0, 1, 0, 5, 1, 6, 1, 1, 0, 7, 2]))
    write("checksum_incremental", "udp-ports", bytes([1, 2, 0, 0, 0x0F, 0xA0, 0, 0, 1, 3, 0x12, 0x34, 0x56, 0x78]) + bytes(range(40)))
    write("checksum_incremental", "zero-data", bytes([0, 1, 1, 1, 0, 0, 0, 0]) + bytes(20))


def text_seeds():
    for profile in sorted((REPO / "profiles").glob("*.toml")):
        write("dut_profile", profile.name, profile.read_bytes())
    write("expectations", "documented", """# natcert expectations for reference:linux-like
# TEST-ID-OR-GLOB                      VERDICT  # reason (mandatory)
rfc4787.req8.filtering.udp             WARN     # masquerade filters by address and port
rfc4787.req9.hairpinning               FAIL     # no NAT reflection rules on this router
rfc4787.req9a.hairpin-source           SKIP     # follows from req9
rfc4787.req13*                         SKIP     # the outside MTU equals the inside one
""")
    write("expectations", "crlf-tabs", "rfc5382.req?.*\tinconclusive\t# timers\r\nrfc5508.*  info # characterised\r\n")
    write("expectations", "missing-reason", "rfc4787.req1.mapping.udp PASS\n")
    specs = ["rfc-strict", "symmetric,udp-timers.mapping=2m", "linux-like,hairpin.enabled=true",
             "rfc-strict-pool,pooling=arbitrary,ports.min-port=1024,ports.max-port=2047",
             "rfc-strict,udp-timers.per-destination-port=53:30s+123:1m,tcp.established=2h4m",
             "full-cone,fragments.inbound=reassemble,fragments.outside-mtu=576,icmp.generated-per-second=0",
             "rfc-strict,external-addresses=203.0.113.1+203.0.113.9,alg.ftp=true"]
    for number, spec in enumerate(specs):
        write("config_spec", f"spec{number}", spec)


def alg_seeds():
    # alg_ftp: mode byte (even: parser, bit 1 = client line; odd: control stream), then text or, for a
    # stream, segments (direction byte, length byte, payload).
    lines = {"port": (2, "PORT 10,0,0,10,156,64"), "eprt": (2, "EPRT |1|10.0.0.10|40000|"),
             "pasv-reply": (0, "227 Entering Passive Mode (10,0,0,10,156,64)."),
             "epsv-reply": (0, "229 Entering Extended Passive Mode (|||40000|)"), "epsv-all": (2, "EPSV ALL")}
    for name, (mode, line) in lines.items():
        write("alg_ftp", name, bytes([mode]) + line.encode())
    stream = b""
    for direction, text in [(0, b"220 ready\r\n"), (1, b"USER ftp\r\n"), (1, b"PORT 10,0,0,10,156,64\r\n"),
                            (0, b"200 PORT ok\r\n"), (1, b"EPRT |1|10.0.0.10|40001|\r\nPASV\r\n"),
                            (0, b"227 Entering Passive Mode (198,51,100,10,19,137)\r\n")]:
        stream += bytes([direction, len(text)]) + text
    write("alg_ftp", "stream", bytes([1]) + stream)

    # alg_sip: mode byte (even: rewriter, bit 1 = map SDP media; odd: datagrams), then the message or,
    # for datagrams, (direction byte: odd = outbound, length byte, payload) records.
    body = "v=0\r\no=- 1 1 IN IP4 10.0.0.10\r\ns=-\r\nc=IN IP4 10.0.0.10\r\nt=0 0\r\nm=audio 16384 RTP/AVP 0\r\n"
    invite = ("INVITE sip:bob@198.51.100.10 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bK1\r\n"
              "From: <sip:alice@example.invalid>;tag=1\r\nTo: <sip:bob@198.51.100.10>\r\nCall-ID: 1@x\r\n"
              "CSeq: 1 INVITE\r\nContact: <sip:alice@10.0.0.10:5060>\r\nContent-Type: application/sdp\r\n"
              f"Content-Length: {len(body)}\r\n\r\n{body}")
    ok = ("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 203.0.113.1:40000;branch=z9hG4bK1\r\nCall-ID: 1@x\r\n"
          "CSeq: 1 INVITE\r\nContact: <sip:bob@198.51.100.10>\r\nl: 0\r\n\r\n")
    write("alg_sip", "invite", bytes([2]) + invite.encode())
    write("alg_sip", "invite-no-media", bytes([0]) + invite.encode())
    write("alg_sip", "compact-ok", bytes([0]) + ok.encode())
    write("alg_sip", "datagrams", bytes([1]) + bytes([1, 250]) + invite.encode()[:250] + bytes([0, len(ok)]) + ok.encode())


def main():
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    packet_seeds()
    program_seeds()
    text_seeds()
    alg_seeds()


if __name__ == "__main__":
    main()
