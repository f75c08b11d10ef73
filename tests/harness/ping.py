"""A host on the guest's wire that pings it: sends ICMP echo requests from a made-up address
through a wire peer's port, answers the guest's ARP request for that address, and waits for the
echo reply. QEMU's user network never sends a guest an echo request, so this is how a test sees
the guest answer ping (the Membrane copies echo requests out of the read-only RX pool before
lwIP turns them into the reply: lwip/rx_frame_policy.h)."""
import ipaddress
import struct
import time

from tools.wirepeer import ether_frame, mac, parse_ether

PEER_MAC = mac("02:00:00:00:00:50")
ETH_IPV4, ETH_ARP = 0x0800, 0x0806
ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY = 8, 0


def internet_checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4_packet(src, dst, proto, payload, ident):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0, src, dst)
    return header[:10] + struct.pack("!H", internet_checksum(header)) + header[12:] + payload


def echo_request(ident, seq, data):
    body = struct.pack("!BBHHH", ICMP_ECHO_REQUEST, 0, 0, ident, seq) + data
    return body[:2] + struct.pack("!H", internet_checksum(body)) + body[4:]


def arp_reply(peer_ip, guest_mac, guest_ip):
    return ether_frame(guest_mac, PEER_MAC, ETH_ARP,
                       struct.pack("!HHBBH6s4s6s4s", 1, ETH_IPV4, 6, 4, 2, PEER_MAC, peer_ip, guest_mac, guest_ip))


def answer_arp(port, payload, peer_ip):
    """Answers the guest's ARP request for peer_ip; True if it was one."""
    if len(payload) < 28:
        return False
    op, sender_mac, sender_ip, target_ip = struct.unpack("!6xH6s4s6x4s", payload[:28])
    if op != 1 or target_ip != peer_ip:
        return False
    port.send(arp_reply(peer_ip, sender_mac, sender_ip))
    return True


def is_echo_reply(payload, peer_ip, guest_ip, ident, seq, data):
    if len(payload) < 28 or payload[9] != 1 or payload[12:16] != guest_ip or payload[16:20] != peer_ip:
        return False
    icmp = payload[(payload[0] & 0x0F) * 4:]
    return (icmp[:1] == bytes([ICMP_ECHO_REPLY]) and struct.unpack("!HH", icmp[4:8]) == (ident, seq)
            and icmp[8:] == data and internet_checksum(icmp) == 0)


def ping(port, guest_mac, guest_ip, peer_ip, tries=5, wait=1.0):
    """Pings guest_ip (at guest_mac) from peer_ip; (replies, tries) after `tries` requests."""
    guest_mac, guest_ip, peer_ip = mac(guest_mac), ipaddress.IPv4Address(guest_ip).packed, ipaddress.IPv4Address(peer_ip).packed
    ident, replies = 0x4E58, 0
    for seq in range(tries):
        data = bytes(range(seq, seq + 56))
        packet = ipv4_packet(peer_ip, guest_ip, 1, echo_request(ident, seq, data), 0x1000 + seq)
        port.send(ether_frame(guest_mac, PEER_MAC, ETH_IPV4, packet))
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            frame = port.recv(timeout=left)
            if frame is None:
                break
            dst, _, ethertype, payload = parse_ether(frame)
            if ethertype == ETH_ARP:
                answer_arp(port, payload, peer_ip)
            elif ethertype == ETH_IPV4 and dst == PEER_MAC and is_echo_reply(payload, peer_ip, guest_ip, ident, seq, data):
                replies += 1
                break
    return replies, tries
