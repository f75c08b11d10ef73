/*
 * Packet-pool ownership table (see ion_pool.h). One byte per buffer, indexed by handle; the
 * handle is range-checked before every access because it may come straight out of a ring that a
 * hostile service can write.
 */
#include "ion_pool.h"

#include <string.h>

int ion_pool_init(struct ion_pool *p, uint32_t nbufs, uint8_t *owner_storage,
                  uint8_t initial_owner) {
    p->nbufs = 0;
    p->owner = NULL;
    p->refused = 0;
    if ((nbufs > 0 && !owner_storage) || initial_owner == ION_POOL_NO_OWNER)
        return -1;
    p->nbufs = nbufs;
    p->owner = owner_storage;
    if (nbufs > 0)
        memset(owner_storage, initial_owner, nbufs);
    return 0;
}

uint8_t ion_pool_owner(const struct ion_pool *p, uint32_t handle) {
    return handle < p->nbufs ? p->owner[handle] : ION_POOL_NO_OWNER;
}

uint32_t ion_pool_count(const struct ion_pool *p, uint8_t owner) {
    uint32_t n = 0;
    for (uint32_t h = 0; h < p->nbufs; h++)
        n += p->owner[h] == owner;
    return n;
}

uint32_t ion_pool_reclaim(struct ion_pool *p, uint8_t from, uint8_t to) {
    uint32_t n = 0;
    if (from == to || to == ION_POOL_NO_OWNER)
        return 0;
    for (uint32_t h = 0; h < p->nbufs; h++) {
        if (p->owner[h] == from) {
            p->owner[h] = to;
            n++;
        }
    }
    return n;
}
