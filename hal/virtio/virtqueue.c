#include "virtqueue.h"

#include <string.h>

#include "mem.h"

#define PAGE 4096u

/* Orders our ring writes before the device can see them (and its writes before our reads).
 * "iorw" also orders them against the MMIO notify that follows. The host tests, which play the
 * device from the same thread, only need the compiler not to reorder. */
#ifdef __riscv
static inline void dma_fence(void) { __asm__ volatile("fence iorw, iorw" ::: "memory"); }
#else
static inline void dma_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
#endif

int virtq_create(struct virtq *vq, uint16_t num) {
    if (num == 0 || num > VIRTQ_MAX || (num & (num - 1)))
        return -1;
    /* Legacy layout, also fine for modern devices: descriptors and the available ring, then
     * the used ring on the next page boundary (QueueAlign = 4096). */
    uint32_t desc_avail = 16u * num + 6u + 2u * num;
    uint32_t used_off = (desc_avail + PAGE - 1) & ~(PAGE - 1);
    uint32_t total = used_off + 6u + 8u * num;
    uint32_t pages = (total + PAGE - 1) / PAGE;
    uint8_t *mem = page_alloc(pages);
    if (!mem)
        return -1;
    memset(vq, 0, sizeof *vq);
    vq->num = num;
    vq->mem = mem;
    vq->mem_pages = pages;
    vq->desc = (struct virtq_desc *)mem;
    vq->avail = (struct virtq_avail *)(mem + 16u * num);
    vq->used = (struct virtq_used *)(mem + used_off);
    for (uint16_t i = 0; i < num; i++)
        vq->link[i] = (uint16_t)(i + 1);
    vq->num_free = num;
    return 0;
}

int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, int n, uint32_t cookie) {
    if (n <= 0 || n > vq->num_free)
        return -1;
    uint16_t head = vq->free_head, d = head;
    uint64_t writable = 0;
    for (int i = 0; i < n; i++) {
        struct virtq_desc *desc = &vq->desc[d];
        desc->addr = bufs[i].addr;
        desc->len = bufs[i].len;
        desc->flags = (uint16_t)((bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
                                 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        desc->next = vq->link[d];
        if (bufs[i].device_writes)
            writable += bufs[i].len;
        if (i + 1 < n)
            d = vq->link[d];
    }
    vq->free_head = vq->link[d];
    vq->num_free = (uint16_t)(vq->num_free - n);
    vq->chain[head] = (struct virtq_chain){.cookie = cookie, .writable_bytes = writable, .descriptors = (uint16_t)n};
    uint16_t idx = vq->avail->idx;
    vq->avail->ring[idx & (vq->num - 1)] = head;
    dma_fence(); /* the descriptors and ring entry before the index that publishes them */
    vq->avail->idx = (uint16_t)(idx + 1);
    dma_fence();
    return 0;
}

void virtq_set_interrupts(struct virtq *vq, int on) {
    *(volatile uint16_t *)&vq->avail->flags = on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
    dma_fence(); /* the flag before the caller's next look at the used ring */
}

int virtq_has_used(const struct virtq *vq) {
    return *(volatile const uint16_t *)&vq->used->idx != vq->last_used;
}

int virtq_device_wants_notify(const struct virtq *vq) {
    dma_fence(); /* the available index before the flag: else the device may miss the chains */
    return !(*(volatile const uint16_t *)&vq->used->flags & VIRTQ_USED_F_NO_NOTIFY);
}

/* Returns the chain starting at `head` to the free list, following the driver's own links. */
static void free_chain(struct virtq *vq, uint16_t head) {
    uint16_t n = vq->chain[head].descriptors, tail = head;
    for (uint16_t i = 1; i < n; i++)
        tail = vq->link[tail];
    vq->link[tail] = vq->free_head;
    vq->free_head = head;
    vq->num_free = (uint16_t)(vq->num_free + n);
    vq->chain[head].descriptors = 0;
}

enum virtq_used_result virtq_take_used(struct virtq *vq, uint32_t *cookie, uint32_t *len) {
    while (virtq_has_used(vq)) {
        dma_fence(); /* the index before the entry it covers */
        /* Each field read once: the device could change it between a check and a use. */
        const volatile struct virtq_used_elem *e = &vq->used->ring[vq->last_used & (vq->num - 1)];
        uint32_t head = e->id, written = e->len;
        vq->last_used++;
        if (head >= vq->num || vq->chain[head].descriptors == 0) {
            vq->bad_used++; /* not a chain in flight: nothing to free, no cookie to give */
            continue;
        }
        const struct virtq_chain *c = &vq->chain[head];
        *cookie = c->cookie;
        int overlong = written > c->writable_bytes;
        free_chain(vq, (uint16_t)head);
        if (overlong) {
            vq->bad_used++;
            *len = 0;
            return VIRTQ_USED_OVERLONG;
        }
        *len = written;
        return VIRTQ_USED_OK;
    }
    return VIRTQ_USED_NONE;
}
