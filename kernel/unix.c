/*
 * AF_UNIX names and connections (unix.h, docs/unix.md). Tables, no lists: UNIX_NAMES bound
 * paths, UNIX_CONNS connections, NEXUS_UNIX_CHANNELS doorbells. A connection's pages belong to
 * the kernel (as a link's do): both ends map them shared, and they are freed when the second end
 * is gone. Lanes are laid out here with the same code libnexus reads them with
 * (ion/unix_lane.c), and a dead end's shut flags are set here, so its peer reads end of file.
 */
#include "unix.h"

#include <errno.h>
#include <string.h>

#include "bus.h"
#include "cspace.h"
#include "fiber.h"
#include "kernel.h"
#include "mem.h"
#include "memlayout.h"
#include "riscv.h"
#include "unix_lane.h"
#include "vm.h"

#define UNIX_NAMES 16
#define UNIX_CONNS 16
#define UNIX_BACKLOG_MAX 8

struct unix_name {
    uint32_t owner; /* fiber id; 0: free */
    unsigned type;
    unsigned backlog; /* 0: bound, not listening */
    char path[NEXUS_UNIX_PATH_MAX + 1];
};

struct unix_conn {
    uint8_t *pages;     /* NULL: free */
    uint32_t fiber[2];  /* each end's fiber id; 0: that end is gone */
    unsigned slot[2];   /* where each end has it mapped (UNIX_CONN_VA + slot * span) */
    int listener;       /* the name it waits on to be accepted; -1 once accepted or the name is gone */
    uint32_t arrival;   /* accept takes the oldest first */
    char from[NEXUS_UNIX_PATH_MAX + 1]; /* the connecting end's name, for the accepting end */
};

static struct unix_name names[UNIX_NAMES];
static struct unix_conn conns[UNIX_CONNS];
static uint32_t doorbell_owner[NEXUS_UNIX_CHANNELS];
static uint32_t arrivals;

/* /Bus/unix/{names,connections,doorbells}: how much of each table is in use, after every change. */
static void publish(void) {
    unsigned n = 0, c = 0, d = 0;
    for (unsigned i = 0; i < UNIX_NAMES; i++)
        n += names[i].owner != 0;
    for (unsigned i = 0; i < UNIX_CONNS; i++)
        c += conns[i].pages != NULL;
    for (unsigned i = 0; i < NEXUS_UNIX_CHANNELS; i++)
        d += doorbell_owner[i] != 0;
    bus_setf(BUS_OWNER_KERNEL, "/Bus/unix/names", "%u", n);
    bus_setf(BUS_OWNER_KERNEL, "/Bus/unix/connections", "%u", c);
    bus_setf(BUS_OWNER_KERNEL, "/Bus/unix/doorbells", "%u", d);
}

static long doorbell_of(uint32_t fiber_id) {
    for (unsigned i = 0; i < NEXUS_UNIX_CHANNELS; i++)
        if (doorbell_owner[i] == fiber_id)
            return NEXUS_UNIX_CHANNEL(i);
    return -1;
}

long unix_doorbell(struct fiber *f) {
    long ch = doorbell_of(f->id);
    if (ch >= 0)
        return ch;
    for (unsigned i = 0; i < NEXUS_UNIX_CHANNELS; i++) {
        if (doorbell_owner[i])
            continue;
        int err = cspace_grant(&f->caps, NEXUS_UNIX_CHANNEL(i), CAP_READ);
        if (err)
            return err;
        doorbell_owner[i] = f->id;
        publish();
        return NEXUS_UNIX_CHANNEL(i);
    }
    return -ENOSPC;
}

static int valid_type(unsigned type) { return type == NEXUS_UNIX_STREAM || type == NEXUS_UNIX_DGRAM; }

static struct unix_name *name_at(const char *path) {
    for (unsigned i = 0; i < UNIX_NAMES; i++)
        if (names[i].owner && !strcmp(names[i].path, path))
            return &names[i];
    return NULL;
}

/* The caller's own name `id`, or NULL. */
static struct unix_name *own_name(const struct fiber *f, long id) {
    return id >= 0 && id < UNIX_NAMES && names[id].owner == f->id ? &names[id] : NULL;
}

long unix_bind(struct fiber *f, const char *path, unsigned type) {
    if (!path[0] || !valid_type(type))
        return -EINVAL;
    if (name_at(path))
        return -EADDRINUSE;
    long bell = unix_doorbell(f); /* a listener is woken by connections */
    if (bell < 0)
        return bell;
    for (unsigned i = 0; i < UNIX_NAMES; i++) {
        if (names[i].owner)
            continue;
        /* A datagram name takes every sender's connection without listen. */
        names[i] = (struct unix_name){.owner = f->id, .type = type,
                                      .backlog = type == NEXUS_UNIX_DGRAM ? UNIX_BACKLOG_MAX : 0};
        memcpy(names[i].path, path, strlen(path) + 1);
        publish();
        return i;
    }
    return -ENOSPC;
}

long unix_listen(struct fiber *f, long id, unsigned backlog) {
    struct unix_name *n = own_name(f, id);
    if (!n)
        return -EBADF;
    if (n->type != NEXUS_UNIX_STREAM)
        return -EOPNOTSUPP;
    n->backlog = backlog == 0 ? 1 : backlog > UNIX_BACKLOG_MAX ? UNIX_BACKLOG_MAX : backlog;
    return 0;
}

/* A VA slot the fiber does not use yet, or -1. */
static int free_slot(const struct fiber *f) {
    for (unsigned s = 0; s < UNIX_FIBER_CONNS; s++) {
        int used = 0;
        for (unsigned c = 0; c < UNIX_CONNS && !used; c++)
            for (int e = 0; e < 2; e++) /* a listener's reserved end is not mapped yet */
                used |= conns[c].pages && conns[c].fiber[e] == f->id && conns[c].slot[e] == s &&
                        (e == 0 || conns[c].listener < 0);
        if (!used)
            return (int)s;
    }
    return -1;
}

static uint64_t slot_va(unsigned slot) { return UNIX_CONN_VA + (uint64_t)slot * UNIX_CONN_SPAN; }

/* Maps connection c into f as `end`, grants f WRITE on the peer's doorbell and fills *out. */
static long attach_end(struct fiber *f, struct unix_conn *c, int end, uint32_t peer, struct nexus_unix_conn *out) {
    int slot = free_slot(f);
    long peer_bell = peer ? doorbell_of(peer) : -1, bell = unix_doorbell(f); /* no peer: it has gone */
    if (slot < 0)
        return -EMFILE;
    if (bell < 0)
        return bell;
    long err = peer_bell >= 0 ? cspace_grant(&f->caps, (unsigned)peer_bell, CAP_WRITE) : 0;
    if (!err && vm_user_map_shared(f->pt, slot_va((unsigned)slot), (uint64_t)c->pages, NEXUS_UNIX_CONN_PAGES, PTE_R | PTE_W))
        err = -ENOMEM;
    if (err) {
        for (unsigned p = 0; p < NEXUS_UNIX_CONN_PAGES; p++)
            vm_user_unmap_page(f->pt, slot_va((unsigned)slot) + p * PAGE_SIZE);
        return err;
    }
    c->fiber[end] = f->id;
    c->slot[end] = (unsigned)slot;
    *out = (struct nexus_unix_conn){.va = slot_va((unsigned)slot), .end = (uint32_t)end, .doorbell = (uint32_t)bell,
                                    .peer_doorbell = peer_bell >= 0 ? (uint32_t)peer_bell : NEXUS_UNIX_NO_PEER};
    return 0;
}

/* What the caller holds: one end of a connection, so an app connected to itself closes each
 * end on its own. */
static long end_id(const struct unix_conn *c, int end) { return (c - conns) * 2 + end; }

static unsigned waiting_on(int name) {
    unsigned n = 0;
    for (unsigned i = 0; i < UNIX_CONNS; i++)
        n += conns[i].pages && conns[i].listener == name;
    return n;
}

long unix_connect(struct fiber *f, const char *path, unsigned type, long from, struct nexus_unix_conn *out) {
    if (!path[0] || !valid_type(type))
        return -EINVAL;
    const struct unix_name *me = from == -1 ? NULL : own_name(f, from);
    if (from != -1 && !me)
        return -EBADF;
    struct unix_name *n = name_at(path);
    if (!n)
        return -ENOENT;
    if (n->type != type)
        return -EPROTOTYPE;
    int name = (int)(n - names);
    if (!n->backlog)
        return -ECONNREFUSED;
    if (waiting_on(name) >= n->backlog)
        return -EAGAIN;
    struct unix_conn *c = NULL;
    for (unsigned i = 0; i < UNIX_CONNS && !c; i++)
        c = conns[i].pages ? NULL : &conns[i];
    if (!c)
        return -ENOBUFS;
    c->pages = page_alloc(NEXUS_UNIX_CONN_PAGES);
    if (!c->pages)
        return -ENOMEM;
    unix_lane_init(c->pages);
    unix_lane_init(c->pages + UNIX_LANE_BYTES);
    long err = attach_end(f, c, 0, n->owner, out);
    if (err) {
        page_free(c->pages, NEXUS_UNIX_CONN_PAGES);
        *c = (struct unix_conn){0};
        return err;
    }
    c->fiber[1] = n->owner; /* reserved for the listener until it accepts or goes */
    c->listener = name;
    memcpy(c->from, me ? me->path : "", me ? strlen(me->path) + 1 : 1);
    memcpy(out->peer_path, path, strlen(path) + 1);
    c->arrival = ++arrivals;
    channel_signal((int)doorbell_of(n->owner));
    publish();
    return end_id(c, 0);
}

long unix_accept(struct fiber *f, long id, struct nexus_unix_conn *out) {
    struct unix_name *n = own_name(f, id);
    if (!n)
        return -EBADF;
    if (!n->backlog)
        return -EINVAL;
    struct unix_conn *oldest = NULL;
    for (unsigned i = 0; i < UNIX_CONNS; i++)
        if (conns[i].pages && conns[i].listener == id && (!oldest || conns[i].arrival < oldest->arrival))
            oldest = &conns[i];
    if (!oldest)
        return -EAGAIN;
    long err = attach_end(f, oldest, 1, oldest->fiber[0], out);
    if (err)
        return err;
    oldest->listener = -1;
    memcpy(out->peer_path, oldest->from, sizeof oldest->from);
    return end_id(oldest, 1);
}

/* End `end` of c is gone (closed, or its fiber ended; f is the fiber to unmap it from, NULL when
 * its address space goes as a whole): its lanes are shut so the peer reads end of file and gets
 * EPIPE, the peer is woken, and the pages go when both ends have. A connection not accepted yet
 * is only mapped at its connecting end, and stays queued when that end goes: the listener still
 * accepts it and reads what was sent, then end of file (a datagram sent just before its sender
 * exits is not lost). */
static void end_gone(struct unix_conn *c, int end, struct fiber *f) {
    struct unix_lane_writer w;
    struct unix_lane_reader r;
    int pending = c->listener >= 0;
    unix_lane_writer_attach(&w, c->pages + (size_t)end * UNIX_LANE_BYTES);
    unix_lane_reader_attach(&r, c->pages + (size_t)(1 - end) * UNIX_LANE_BYTES);
    unix_lane_shut_writer(&w);
    unix_lane_shut_reader(&r);
    if (f && (end == 0 || !pending))
        for (unsigned p = 0; p < NEXUS_UNIX_CONN_PAGES; p++)
            vm_user_unmap_page(f->pt, slot_va(c->slot[end]) + p * PAGE_SIZE);
    c->fiber[end] = 0;
    if (end == 1)
        c->listener = -1; /* nobody will accept it now */
    long peer_bell = c->fiber[1 - end] ? doorbell_of(c->fiber[1 - end]) : -1;
    if (peer_bell >= 0)
        channel_signal((int)peer_bell);
    if (!c->fiber[1 - end]) {
        page_free(c->pages, NEXUS_UNIX_CONN_PAGES);
        *c = (struct unix_conn){0};
        publish();
    }
}

/* A name goes: connections still waiting for it lose their accepting end. */
static void name_gone(int id) {
    for (unsigned i = 0; i < UNIX_CONNS; i++)
        if (conns[i].pages && conns[i].listener == id)
            end_gone(&conns[i], 1, NULL);
    names[id] = (struct unix_name){0};
    publish();
}

long unix_close(struct fiber *f, long kind, long id) {
    if (kind == NEXUS_UNIX_NAME) {
        if (!own_name(f, id))
            return -EBADF;
        name_gone((int)id);
        return 0;
    }
    if (kind != NEXUS_UNIX_CONN || id < 0 || id >= 2 * UNIX_CONNS)
        return -EBADF;
    struct unix_conn *c = &conns[id / 2];
    int end = (int)(id % 2);
    if (!c->pages || c->fiber[end] != f->id || (end == 1 && c->listener >= 0))
        return -EBADF;
    end_gone(c, end, f);
    return 0;
}

void unix_fiber_gone(struct fiber *f) {
    for (unsigned i = 0; i < UNIX_NAMES; i++)
        if (names[i].owner == f->id)
            name_gone((int)i);
    for (unsigned i = 0; i < UNIX_CONNS; i++)
        for (int end = 0; end < 2; end++)
            if (conns[i].pages && conns[i].fiber[end] == f->id)
                end_gone(&conns[i], end, NULL); /* its address space goes as a whole */
    for (unsigned i = 0; i < NEXUS_UNIX_CHANNELS; i++)
        if (doorbell_owner[i] == f->id) {
            doorbell_owner[i] = 0;
            publish();
        }
}
