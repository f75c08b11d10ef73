/*
 * libFuzzer target for httpd's document engine (apps/httpd/document.h) over a hostile /Bus
 * listing: for the status page and /bus.json alike, the rendered bytes must equal the announced
 * length, no piece may be cut, and the output must stay printable and well-formed
 * (tests/host/httpdoc_check.h says exactly what holds).
 *
 * The first input byte picks the case, the rest is the listing:
 *   bit 0      the listing fails with a negative status instead;
 *   bits 1-7   the listing is the rest repeated that many times plus one, so small inputs also
 *              reach the snapshot's 64 KiB cut.
 * The whole rendering responses share (document_rendering) must equal the pieces, or be absent
 * only for a document longer than RENDERING_CAP.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpd_script_sysinfo.h"
#include "httpdoc_check.h"
#include "status_page.h"

static const struct document *const documents[] = {&status_page, &bus_json};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    size_t copies = (size_t)(mode >> 1) + 1;
    char *listing = malloc(size * copies + 1);
    if (!listing)
        abort();
    for (size_t i = 0; i < copies; i++)
        memcpy(listing + i * size, data, size);
    script_sysinfo_set(listing, size * copies, (unsigned long long)size * 1000003u);
    free(listing);
    if (mode & 1)
        script_sysinfo_fail(-(long)(size % 200) - 1);

    struct snapshot *s = snapshot_acquire();
    for (size_t i = 0; i < sizeof documents / sizeof documents[0]; i++) {
        struct rendered r;
        const char *broken = render_and_check(documents[i], s, &r);
        /* The whole rendering responses share is exactly the pieces, or absent past its cap. */
        const struct rendering *whole = document_rendering(documents[i], s);
        bool same = whole ? whole->len == r.len && !memcmp(whole->text, r.text, r.len) : r.len > RENDERING_CAP;
        free(r.text);
        if (broken || !same)
            abort();
    }
    snapshot_release(s);
    return 0;
}
