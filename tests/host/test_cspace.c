/* Host tests for capability slots and the grant-text parser (kernel/cspace.c): granting and
 * merging rights, the argument checks, a full CSpace; the rights of each end of a link; every
 * grant kind, the separators, every malformed word, the word count and the GRANT_TEXT_MAX limit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cspace.h"

#define CHANNELS 64  /* channels that exist (cspace.c); as many as CSPACE_SLOTS */

static struct grant g[GRANTS_MAX + 1];

/* grants_parse on a copy in an exact-size heap buffer, into an exact-size heap array of max
 * grants, so ASan catches a read past the NUL or a write past out[max - 1]. The grants are
 * copied to g[]. */
static int parse_max(const char *text, unsigned max) {
    size_t n = strlen(text) + 1;
    char *copy = malloc(n);
    memcpy(copy, text, n);
    struct grant *out = malloc((max ? max : 1) * sizeof *out);
    memset(out, 0xa5, (max ? max : 1) * sizeof *out);
    int rc = grants_parse(copy, out, max);
    memset(g, 0, sizeof g);
    if (rc > 0)
        memcpy(g, out, (size_t)rc * sizeof *out);
    free(out);
    free(copy);
    return rc;
}

static int parse(const char *text) { return parse_max(text, GRANTS_MAX); }

static int is_grant(const struct grant *x, enum grant_kind kind, unsigned number, const char *server, unsigned rights) {
    if (x->kind != kind || x->rights != rights)
        return 0;
    if (kind == GRANT_LINK)
        return memchr(x->server, '\0', sizeof x->server) && strcmp(x->server, server) == 0;
    return x->number == number;
}

static int one(const char *text, enum grant_kind kind, unsigned number, const char *server, unsigned rights) {
    return parse(text) == 1 && is_grant(&g[0], kind, number, server, rights);
}

static void test_cspace_grant(void) {
    struct cspace cs;
    memset(&cs, 0, sizeof cs);
    CHECK("fresh_is_empty", cspace_used(&cs) == 0 && cspace_rights(&cs, 0) == 0 && cspace_rights(&cs, 5) == 0);
    CHECK("grant_read", cspace_grant(&cs, 5, CAP_READ) == 0 && cspace_rights(&cs, 5) == CAP_READ &&
                            cspace_used(&cs) == 1);
    CHECK("grant_does_not_leak_to_others", cspace_rights(&cs, 4) == 0 && cspace_rights(&cs, 6) == 0 &&
                                               cspace_rights(&cs, 0) == 0);
    CHECK("merge_write_keeps_one_slot", cspace_grant(&cs, 5, CAP_WRITE) == 0 && cspace_rights(&cs, 5) == CAP_RW &&
                                            cspace_used(&cs) == 1);
    CHECK("regrant_same_rights_idempotent", cspace_grant(&cs, 5, CAP_RW) == 0 && cspace_rights(&cs, 5) == CAP_RW &&
                                                cspace_used(&cs) == 1);
    CHECK("regrant_read_does_not_narrow", cspace_grant(&cs, 5, CAP_READ) == 0 && cspace_rights(&cs, 5) == CAP_RW);
    CHECK("channel_0", cspace_grant(&cs, 0, CAP_WRITE) == 0 && cspace_rights(&cs, 0) == CAP_WRITE &&
                           cspace_used(&cs) == 2);
    CHECK("channel_63", cspace_grant(&cs, CHANNELS - 1, CAP_RW) == 0 && cspace_rights(&cs, CHANNELS - 1) == CAP_RW &&
                            cspace_used(&cs) == 3);

    CHECK("channel_64_refused", cspace_grant(&cs, CHANNELS, CAP_READ) == -EINVAL);
    CHECK("channel_huge_refused", cspace_grant(&cs, 256 + 5, CAP_READ) == -EINVAL && cspace_rights(&cs, 5) == CAP_RW);
    CHECK("rights_0_refused", cspace_grant(&cs, 7, 0) == -EINVAL);
    CHECK("rights_4_refused", cspace_grant(&cs, 7, 4) == -EINVAL);
    CHECK("rights_7_refused", cspace_grant(&cs, 7, CAP_RW | 4) == -EINVAL);
    CHECK("refusals_change_nothing", cspace_used(&cs) == 3 && cspace_rights(&cs, 7) == 0 &&
                                         cspace_rights(&cs, CHANNELS) == 0);

    /* Every channel once: the 64 slots fill exactly, so -ENOSPC cannot be reached with distinct
     * channels (a 65th distinct one does not exist), and re-granting one still merges. */
    memset(&cs, 0, sizeof cs);
    int all_ok = 1;
    for (unsigned ch = 0; ch < CHANNELS; ch++) {
        if (cspace_grant(&cs, ch, CAP_READ) != 0 || cspace_used(&cs) != ch + 1)
            all_ok = 0;
    }
    CHECK("fill_all_channels_counts", all_ok && cspace_used(&cs) == CSPACE_SLOTS);
    int all_read = 1;
    for (unsigned ch = 0; ch < CHANNELS; ch++)
        if (cspace_rights(&cs, ch) != CAP_READ)
            all_read = 0;
    CHECK("fill_all_channels_rights", all_read);
    CHECK("full_regrant_existing_merges", cspace_grant(&cs, 17, CAP_WRITE) == 0 && cspace_rights(&cs, 17) == CAP_RW &&
                                              cspace_used(&cs) == CSPACE_SLOTS);
    CHECK("full_65th_channel_does_not_exist", cspace_grant(&cs, CHANNELS, CAP_READ) == -EINVAL);

    /* -ENOSPC needs a table the API never builds: every slot naming the same channel (with
     * the bitmaps that go with it). */
    memset(&cs, 0, sizeof cs);
    for (unsigned i = 0; i < CSPACE_SLOTS; i++)
        cs.slot[i] = (struct cap){.channel = 9, .rights = CAP_READ};
    cs.readable = 1ull << 9;
    CHECK("enospc_when_slots_full_hand_built", cspace_grant(&cs, 8, CAP_READ) == -ENOSPC &&
                                                   cspace_rights(&cs, 8) == 0 && cspace_used(&cs) == CSPACE_SLOTS);
    CHECK("enospc_table_still_merges", cspace_grant(&cs, 9, CAP_WRITE) == 0 && cspace_rights(&cs, 9) == CAP_RW);
    cs.slot[10].rights = 0;
    CHECK("freed_slot_reused", cspace_grant(&cs, 8, CAP_WRITE) == 0 && cspace_rights(&cs, 8) == CAP_WRITE &&
                                   cs.slot[10].channel == 8 && cspace_used(&cs) == CSPACE_SLOTS);

    /* A free slot before the one naming the channel: the grant must merge, not duplicate. */
    memset(&cs, 0, sizeof cs);
    cs.slot[3] = (struct cap){.channel = 40, .rights = CAP_READ};
    cs.readable = 1ull << 40;
    CHECK("merge_past_free_slot", cspace_grant(&cs, 40, CAP_WRITE) == 0 && cspace_used(&cs) == 1 &&
                                      cs.slot[3].rights == CAP_RW && cspace_rights(&cs, 40) == CAP_RW);
}

/* The rights one end of a link gets on (own, peer) from a link grant of `rights`, in a fresh
 * CSpace; -1 in both when the grant is refused. */
static void link_end(unsigned rights, unsigned *own, unsigned *peer) {
    struct cspace cs;
    memset(&cs, 0, sizeof cs);
    int rc = cspace_grant_link_end(&cs, 32, 40, rights);
    *own = rc ? (unsigned)-1 : cspace_rights(&cs, 32);
    *peer = rc ? (unsigned)-1 : cspace_rights(&cs, 40);
}

static void test_link_end(void) {
    unsigned own, peer;
    link_end(CAP_RW, &own, &peer);
    CHECK("link_rw_reads_own_writes_peer", own == CAP_READ && peer == CAP_WRITE);
    link_end(CAP_READ, &own, &peer);
    CHECK("link_r_only_waits_on_own", own == CAP_READ && peer == 0);
    link_end(CAP_WRITE, &own, &peer);
    CHECK("link_w_only_signals_peer", own == 0 && peer == CAP_WRITE);
    link_end(0, &own, &peer);
    CHECK("link_rights_0_refused", own == (unsigned)-1);
    link_end(CAP_RW | 4, &own, &peer);
    CHECK("link_rights_7_refused", own == (unsigned)-1);

    /* A server of two links and a client of a third: each end keeps its direction. */
    struct cspace cs;
    memset(&cs, 0, sizeof cs);
    CHECK("link_several_ends_granted", cspace_grant_link_end(&cs, 32, 40, CAP_RW) == 0 &&
                                           cspace_grant_link_end(&cs, 33, 41, CAP_RW) == 0 &&
                                           cspace_grant_link_end(&cs, 42, 34, CAP_RW) == 0);
    CHECK("link_several_ends_directions", cspace_rights(&cs, 32) == CAP_READ && cspace_rights(&cs, 40) == CAP_WRITE &&
                                              cspace_rights(&cs, 33) == CAP_READ && cspace_rights(&cs, 41) == CAP_WRITE &&
                                              cspace_rights(&cs, 42) == CAP_READ && cspace_rights(&cs, 34) == CAP_WRITE &&
                                              cspace_used(&cs) == 6);
    CHECK("link_bad_channel_refused", cspace_grant_link_end(&cs, CHANNELS, 40, CAP_READ) == -EINVAL &&
                                          cspace_grant_link_end(&cs, 32, CHANNELS, CAP_WRITE) == -EINVAL &&
                                          cspace_used(&cs) == 6);
}

static const struct {
    const char *text;
    const char *name;
} bad_words[] = {
    {"chan", "bad_no_colon"},
    {"chan:", "bad_chan_empty_number"},
    {"chan:x", "bad_chan_not_a_number"},
    {"chan:5:", "bad_empty_rights"},
    {"chan:5:rx", "bad_rights_rx"},
    {"chan:5:wr", "bad_rights_wr"},
    {"chan:5:R", "bad_rights_uppercase"},
    {"chan:5:r:w", "bad_two_rights"},
    {"chan:16", "bad_chan_16_a_link_channel"},
    {"chan:32", "bad_chan_32"},
    {"chan:999", "bad_chan_999"},
    {"chan:0005", "bad_chan_four_digits"},
    {"heap:65537", "bad_heap_past_max"},
    {"heap:000064", "bad_heap_six_digits"},
    {"heap:64:r", "bad_heap_with_rights"},
    {"heap:", "bad_heap_empty"},
    {"files:16385", "bad_files_past_max"},
    {"files:64:rw", "bad_files_with_rights"},
    {"area:membrane:rw", "bad_area_with_rights"},
    {"area:", "bad_area_empty_name"},
    {"chan:-1", "bad_chan_negative"},
    {"chan:+1", "bad_chan_plus"},
    {"chan:5x", "bad_chan_trailing_junk"},
    {"chan:5\t", "bad_tab_not_a_separator"},
    {"chan::r", "bad_chan_empty_number_with_rights"},
    {"CHAN:5", "bad_kind_uppercase"},
    {"port:16", "bad_port_16"},
    {"port:", "bad_port_empty_number"},
    {"port:a", "bad_port_not_a_number"},
    {"link:", "bad_link_empty_name"},
    {"link::r", "bad_link_empty_name_with_rights"},
    {"link:UPPER", "bad_link_uppercase"},
    {"link:mem.brane", "bad_link_dot"},
    {"link:mem/brane", "bad_link_slash"},
    {"link:abcdefghijklmnop", "bad_link_name_16_chars"},
    {"link:membrane:x", "bad_link_rights"},
    {"foo:1", "bad_unknown_kind"},
    {":1", "bad_empty_kind"},
    {":", "bad_lone_colon"},
    {"chan5", "bad_kind_number_run_together"},
    {"chan:1 chan", "bad_second_word"},
    {"link:membrane,port:99", "bad_after_comma"},
};

static void test_grants_parse(void) {
    CHECK("chan_default_rw", one("chan:5", GRANT_CHANNEL, 5, "", CAP_RW));
    CHECK("chan_0_w", one("chan:0:w", GRANT_CHANNEL, 0, "", CAP_WRITE));
    CHECK("chan_15_r", one("chan:15:r", GRANT_CHANNEL, 15, "", CAP_READ)); /* the last own channel */
    CHECK("chan_explicit_rw", one("chan:7:rw", GRANT_CHANNEL, 7, "", CAP_RW));
    CHECK("area_names_server", one("area:membrane", GRANT_AREA, 0, "membrane", CAP_RW));
    struct grant two[2];
    CHECK("area_found_by_server", grants_parse("link:membrane area:membrane", two, 2) == 2 &&
                                      grants_name_area(two, 2, "membrane") && !grants_name_area(two, 2, "utcp") &&
                                      !grants_name_area(two, 1, "membrane"));
    CHECK("chan_three_digits", one("chan:005", GRANT_CHANNEL, 5, "", CAP_RW));
    CHECK("port_0_w", one("port:0:w", GRANT_PORT, 0, "", CAP_WRITE));
    CHECK("port_15", one("port:15", GRANT_PORT, GRANT_PORTS_MAX - 1, "", CAP_RW));
    CHECK("link_default_rw", one("link:membrane", GRANT_LINK, 0, "membrane", CAP_RW));
    CHECK("link_r", one("link:membrane:r", GRANT_LINK, 0, "membrane", CAP_READ));
    CHECK("link_name_chars", one("link:net-svc_2", GRANT_LINK, 0, "net-svc_2", CAP_RW));
    CHECK("link_name_one_char", one("link:a:w", GRANT_LINK, 0, "a", CAP_WRITE));
    CHECK("link_name_15_chars", one("link:abcdefghijklmno", GRANT_LINK, 0, "abcdefghijklmno", CAP_RW));
    CHECK("link_name_15_chars_with_rights", one("link:abcdefghijklmno:r", GRANT_LINK, 0, "abcdefghijklmno", CAP_READ));

    CHECK("heap_kib", one("heap:1024", GRANT_HEAP, 1024, "", CAP_RW));
    CHECK("heap_max", one("heap:65536", GRANT_HEAP, 65536, "", CAP_RW));
    CHECK("files_kib", one("files:256", GRANT_FILES, 256, "", CAP_RW));
    CHECK("several_with_spaces", parse("chan:1 port:2:r link:netsvc:w") == 3 &&
                                     is_grant(&g[0], GRANT_CHANNEL, 1, "", CAP_RW) &&
                                     is_grant(&g[1], GRANT_PORT, 2, "", CAP_READ) &&
                                     is_grant(&g[2], GRANT_LINK, 0, "netsvc", CAP_WRITE));
    CHECK("several_with_commas", parse("chan:1,chan:2:w,link:membrane") == 3 &&
                                     is_grant(&g[0], GRANT_CHANNEL, 1, "", CAP_RW) &&
                                     is_grant(&g[1], GRANT_CHANNEL, 2, "", CAP_WRITE) &&
                                     is_grant(&g[2], GRANT_LINK, 0, "membrane", CAP_RW));
    CHECK("mixed_repeated_leading_trailing_separators",
          parse(" , chan:1,, ,port:2 , ") == 2 && is_grant(&g[0], GRANT_CHANNEL, 1, "", CAP_RW) &&
              is_grant(&g[1], GRANT_PORT, 2, "", CAP_RW));
    CHECK("same_channel_twice_is_two_grants", parse("chan:3:r chan:3:w") == 2 &&
                                                  is_grant(&g[0], GRANT_CHANNEL, 3, "", CAP_READ) &&
                                                  is_grant(&g[1], GRANT_CHANNEL, 3, "", CAP_WRITE));
    CHECK("empty_is_no_grants", parse("") == 0);
    CHECK("separators_only_is_no_grants", parse(" ,, , ") == 0);
    CHECK("empty_with_max_0", parse_max("", 0) == 0);

    for (size_t i = 0; i < sizeof bad_words / sizeof bad_words[0]; i++)
        CHECK(bad_words[i].name, parse(bad_words[i].text) == -EINVAL);

    const char *eight = "chan:0 chan:1 chan:2 chan:3 chan:4 chan:5 chan:6 chan:7";
    CHECK("exactly_max_words", parse(eight) == GRANTS_MAX && is_grant(&g[GRANTS_MAX - 1], GRANT_CHANNEL, 7, "", CAP_RW));
    CHECK("more_than_max_words_refused", parse("chan:0 chan:1 chan:2 chan:3 chan:4 chan:5 chan:6 chan:7 chan:8") == -EINVAL);
    CHECK("small_max_exact", parse_max("chan:1 chan:2", 2) == 2);
    CHECK("small_max_exceeded_refused", parse_max("chan:1 chan:2", 1) == -EINVAL);
    CHECK("max_0_one_word_refused", parse_max("chan:1", 0) == -EINVAL);

    /* 127 bytes of valid grants (8 separators, then 5 words of 23) fit GRANT_TEXT_MAX with the
     * NUL; 128 do not. */
    char text[GRANT_TEXT_MAX + 2];
    const char *word = "link:abcdefghijklmno:rw";
    size_t at = 0;
    for (; at < 8; at++)
        text[at] = at % 2 ? ',' : ' ';
    for (int w = 0; w < 5; w++) {
        if (w)
            text[at++] = ' ';
        memcpy(text + at, word, strlen(word));
        at += strlen(word);
    }
    text[at] = '\0';
    CHECK("text_of_max_minus_one_accepted", strlen(text) == GRANT_TEXT_MAX - 1 && parse(text) == 5 &&
                                                is_grant(&g[4], GRANT_LINK, 0, "abcdefghijklmno", CAP_RW));
    memmove(text + 1, text, strlen(text) + 1);
    text[0] = ' ';
    CHECK("text_of_max_refused", strlen(text) == GRANT_TEXT_MAX && parse(text) == -EINVAL);
    char longtext[1000];
    memset(longtext, ' ', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    CHECK("long_separators_refused", parse(longtext) == -EINVAL);
}

int main(void) {
    check_suite = "cspace";
    test_cspace_grant();
    test_link_end();
    test_grants_parse();
    return check_exit();
}
