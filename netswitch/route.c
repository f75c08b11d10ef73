#include "route.h"

const struct ns_route ns_routes[] = {
    {0x0800, PORT_MEMBRANE}, /* IPv4 */
    {0x0806, PORT_MEMBRANE}, /* ARP */
    {0x86DD, PORT_MEMBRANE}, /* IPv6 */
    {0x88B5, PORT_UTCP},
    {0x4C57, PORT_LWF},
};
_Static_assert(sizeof ns_routes / sizeof ns_routes[0] == NS_ROUTES, "NS_ROUTES in route.h counts ns_routes[]");

const char *const ns_port_names[NS_PORTS] = {
    [PORT_MEMBRANE] = "membrane",
    [PORT_UTCP] = "utcp",
    [PORT_LWF] = "lwf",
};

const char *const ns_drop_names[NS_DROPS] = {
    [DROP_RUNT] = "runt",
    [DROP_OVERSIZED] = "oversized",
    [DROP_UNKNOWN] = "unknown_ethertype",
    [DROP_NO_SERVICE] = "no_service",
    [DROP_RING_FULL] = "ring_full",
    [DROP_OVER_BUDGET] = "over_budget",
};

int ns_route_index(uint16_t ethertype) {
    for (unsigned i = 0; i < NS_ROUTES; i++)
        if (ns_routes[i].ethertype == ethertype)
            return (int)i;
    return -1;
}

int ns_route_lookup(uint16_t ethertype) {
    int i = ns_route_index(ethertype);
    return i >= 0 ? ns_routes[i].port : -1;
}

/* The first entry of a type wins, as in ns_route_index. */
void ns_route_table_init(uint8_t table[NS_ROUTE_TABLE_SIZE]) {
    for (unsigned r = NS_ROUTES; r-- > 0;)
        table[ns_wire_type_of(ns_routes[r].ethertype)] = (uint8_t)(1 + r);
}

int ns_tx_granted(unsigned port, uint16_t ethertype) {
    int p = ns_route_lookup(ethertype);
    return p >= 0 && (unsigned)p == port;
}
