/*
 * The status page: the system tree shown as HTML for people (GET /: the lease, fibers, NetSwitch
 * counters, ring fill levels, then every /Bus key) and as JSON for programs (GET /bus.json).
 * Both are documents of the document engine (document.h).
 */
#ifndef NEXUS_HTTPD_STATUS_PAGE_H
#define NEXUS_HTTPD_STATUS_PAGE_H

#include "document.h"

extern const struct document status_page;
extern const struct document bus_json;

#endif
