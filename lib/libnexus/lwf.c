/* <net/lwf.h>'s helpers for apps that take a CellID from the user. */
#include <net/lwf.h>
#include <string.h>

static int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int lwf_cellid_parse(const char *text, uint8_t cellid[LWF_CELLID_BYTES]) {
    if (strlen(text) != 2 * LWF_CELLID_BYTES)
        return -1;
    for (int i = 0; i < LWF_CELLID_BYTES; i++) {
        int high = hex_digit(text[2 * i]), low = hex_digit(text[2 * i + 1]);
        if (high < 0 || low < 0)
            return -1;
        cellid[i] = (uint8_t)(high << 4 | low);
    }
    return 0;
}
