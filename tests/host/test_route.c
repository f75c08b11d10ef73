/* Host tests for the NetSwitch route table and classifier (netswitch/route.c). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "route.h"

static uint8_t table[NS_ROUTE_TABLE_SIZE];

static int classify_type(uint16_t type, uint32_t len) {
    uint8_t *f = calloc(1, len ? len : 1); /* exact size: ASan catches reads past len */
    if (len >= ETH_HDR_LEN) {
        f[12] = (uint8_t)(type >> 8);
        f[13] = (uint8_t)type;
    }
    int r = ns_classify(table, f, len);
    free(f);
    return r >= 0 ? ns_routes[r].port : r; /* the port the route leads to, or the drop code */
}

int main(void) {
    check_suite = "route";
    CHECK("unknown_before_the_table_is_built", classify_type(0x0800, 60) == -(1 + DROP_UNKNOWN));
    ns_route_table_init(table);
    CHECK("ipv4_to_membrane", classify_type(0x0800, 60) == PORT_MEMBRANE);
    CHECK("arp_to_membrane", classify_type(0x0806, 42) == PORT_MEMBRANE);
    CHECK("ipv6_to_membrane", classify_type(0x86DD, 60) == PORT_MEMBRANE);
    CHECK("utcp_to_utcp", classify_type(0x88B5, 60) == PORT_UTCP);
    CHECK("lwf_to_lwf", classify_type(0x4C57, 60) == PORT_LWF);
    CHECK("vlan_tag_is_unknown", classify_type(0x8100, 64) == -(1 + DROP_UNKNOWN));
    CHECK("zero_type_is_unknown", classify_type(0x0000, 60) == -(1 + DROP_UNKNOWN));
    CHECK("byte_swapped_ipv4_unknown", classify_type(0x0008, 60) == -(1 + DROP_UNKNOWN));
    int unknown_ok = 1;
    for (uint32_t t = 0; t <= 0xffff; t++) {
        int expect = ns_route_lookup((uint16_t)t);
        int got = classify_type((uint16_t)t, ETH_HDR_LEN);
        unknown_ok &= expect >= 0 ? got == expect : got == -(1 + DROP_UNKNOWN);
    }
    CHECK("every_ethertype_classified_by_table", unknown_ok);
    CHECK("runt_13", classify_type(0x0800, 13) == -(1 + DROP_RUNT));
    CHECK("runt_0", classify_type(0x0800, 0) == -(1 + DROP_RUNT));
    CHECK("header_only_is_routed", classify_type(0x0800, 14) == PORT_MEMBRANE);
    CHECK("max_frame_routed", classify_type(0x0800, ETH_FRAME_MAX) == PORT_MEMBRANE);
    CHECK("oversized", classify_type(0x0800, ETH_FRAME_MAX + 1) == -(1 + DROP_OVERSIZED));
    CHECK("tx_grant_own_type", ns_tx_granted(PORT_UTCP, 0x88B5) && ns_tx_granted(PORT_MEMBRANE, 0x0806));
    CHECK("tx_grant_refuses_other_types", !ns_tx_granted(PORT_UTCP, 0x0800) && !ns_tx_granted(PORT_LWF, 0x88B5) &&
                                              !ns_tx_granted(PORT_MEMBRANE, 0x1234));
    /* The route table itself: NS_ROUTES entries (route.c asserts the count at compile time),
     * each leading to a real port, none shadowed by an earlier entry of the same EtherType. */
    int routes_ok = 1;
    for (unsigned r = 0; r < NS_ROUTES; r++)
        routes_ok &= ns_routes[r].port < NS_PORTS && ns_route_index(ns_routes[r].ethertype) == (int)r;
    CHECK("every_route_leads_to_a_port_once", routes_ok);
    int names_ok = 1;
    for (unsigned p = 0; p < NS_PORTS; p++)
        names_ok &= ns_port_names[p] != NULL;
    for (unsigned d = 0; d < NS_DROPS; d++)
        names_ok &= ns_drop_names[d] != NULL;
    CHECK("every_port_and_drop_named", names_ok);
    return check_exit();
}
