/* Pure TCP acknowledgements made redundant by a later one in the same RX batch (rx_ack_coalesce.h). */
#include "rx_ack_coalesce.h"

#include <string.h>

#include "chksum.h"

#define ETH_LEN 14
#define IPV4_MIN_LEN 20
#define TCP_LEN 20 /* no options */
#define IP_PROTO_TCP 6
#define IP_FRAGMENT_BITS 0x3fff /* more fragments, fragment offset */
#define TCP_NO_OPTIONS ((TCP_LEN / 4) << 4) /* data offset 5, the reserved bits clear */
#define TCP_FLAG_ACK 0x10

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* Whether ones' complement sums over everything a checksum covers, its own field included,
 * come to all ones: the checksum is right. */
static int sums_right(uint32_t a, uint32_t b) {
    uint32_t sum = a + b;
    sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

int pure_ack_parse(const uint8_t *frame, uint32_t len, struct pure_ack *out) {
    if (len < ETH_LEN + IPV4_MIN_LEN + TCP_LEN || be16(frame + 12) != 0x0800)
        return 0;
    const uint8_t *ip = frame + ETH_LEN;
    uint32_t ihl = (ip[0] & 0x0fu) * 4;
    if (ip[0] >> 4 != 4 || ihl < IPV4_MIN_LEN || ip[9] != IP_PROTO_TCP || (be16(ip + 6) & IP_FRAGMENT_BITS))
        return 0;
    uint32_t total = be16(ip + 2);
    if (total != ihl + TCP_LEN || ETH_LEN + total > len)
        return 0;
    const uint8_t *tcp = ip + ihl;
    if (tcp[12] != TCP_NO_OPTIONS || tcp[13] != TCP_FLAG_ACK)
        return 0;
    if (!sums_right(membrane_chksum(ip, (int)ihl), 0))
        return 0;
    uint8_t pseudo[12] = {0};
    memcpy(pseudo, ip + 12, 8);
    pseudo[9] = IP_PROTO_TCP, pseudo[11] = TCP_LEN;
    if (!sums_right(membrane_chksum(pseudo, sizeof pseudo), membrane_chksum(tcp, TCP_LEN)))
        return 0;
    memcpy(out->flow, ip + 12, 8);
    memcpy(out->flow + 8, tcp, 4);
    out->ack = be32(tcp + 8);
    return 1;
}

unsigned pure_ack_superseded(const struct pure_ack *acks, const uint8_t *is_ack, uint32_t n, uint8_t *superseded) {
    unsigned count = 0;
    for (uint32_t i = 0; i < n; i++) {
        superseded[i] = 0;
        for (uint32_t j = i + 1; is_ack[i] && j < n && !superseded[i]; j++)
            superseded[i] = is_ack[j] && memcmp(acks[j].flow, acks[i].flow, sizeof acks[i].flow) == 0 &&
                            (int32_t)(acks[j].ack - acks[i].ack) > 0;
        count += superseded[i];
    }
    return count;
}
