/*
 * nexus-keygen: the node's identity on the host (docs/identity.md).
 *     nexus-keygen FILE           creates a key file (never over an existing one, mode 0600)
 *     nexus-keygen --show FILE    reads one back, refusing a bad file
 * Both print the CellID (32 hex digits) and the Ed25519 public key (64). Built with Debian's
 * libsodium-dev: keys from randombytes_buf, crypto_sign_seed_keypair and crypto_generichash.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity/keyfile.h"

#define PROG "nexus-keygen"

static int derive_public(uint8_t public_key[KEYFILE_PUBLIC_LEN], const uint8_t seed[KEYFILE_SEED_LEN]) {
    uint8_t secret[crypto_sign_SECRETKEYBYTES];
    int err = crypto_sign_seed_keypair(public_key, secret, seed);
    sodium_memzero(secret, sizeof secret);
    return err;
}

static void print_hex(const char *label, const uint8_t *p, size_t n) {
    printf("%s", label);
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
}

static int print_identity(const struct keyfile *k) {
    static const char tag[] = IDENTITY_CELLID_TAG;
    uint8_t message[sizeof tag - 1 + KEYFILE_PUBLIC_LEN], cellid[IDENTITY_CELLID_LEN];
    memcpy(message, tag, sizeof tag - 1);
    memcpy(message + sizeof tag - 1, k->public_key, KEYFILE_PUBLIC_LEN);
    if (crypto_generichash(cellid, sizeof cellid, message, sizeof message, NULL, 0) != 0) {
        fprintf(stderr, PROG ": BLAKE2b failed\n");
        return 1;
    }
    print_hex("CellID:     ", cellid, sizeof cellid);
    print_hex("public key: ", k->public_key, KEYFILE_PUBLIC_LEN);
    return 0;
}

/* Writes all of buf to fd; 0, or -1 with errno set. */
static int write_all(int fd, const uint8_t *buf, size_t len) {
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int create(const char *path) {
    struct keyfile k;
    uint8_t file[KEYFILE_LEN];
    /* O_EXCL: an identity is never replaced by accident; the old file stays as it was. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            fprintf(stderr, PROG ": %s exists; refusing to overwrite a key file (" PROG " --show %s prints its identity)\n",
                    path, path);
        else
            fprintf(stderr, PROG ": cannot create %s: %s\n", path, strerror(errno));
        return 1;
    }
    randombytes_buf(k.seed, sizeof k.seed);
    int failed = derive_public(k.public_key, k.seed) != 0;
    keyfile_write(&k, file);
    /* fchmod as well: a umask can only narrow the mode, but the file must not depend on it. */
    failed = failed || fchmod(fd, 0600) != 0 || write_all(fd, file, sizeof file) != 0 || fsync(fd) != 0;
    int saved = errno;
    failed = close(fd) != 0 || failed;
    sodium_memzero(file, sizeof file);
    if (failed) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(saved));
        unlink(path);
        sodium_memzero(&k, sizeof k);
        return 1;
    }
    printf("wrote %s (mode 0600): keep it secret, it is the node's identity\n", path);
    int rc = print_identity(&k);
    sodium_memzero(&k, sizeof k);
    return rc;
}

static int show(const char *path) {
    uint8_t file[KEYFILE_LEN + 1]; /* one more: a longer file is refused, not cut */
    struct keyfile k;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, PROG ": cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t len = fread(file, 1, sizeof file, f);
    int read_error = ferror(f);
    fclose(f);
    if (read_error) {
        fprintf(stderr, PROG ": cannot read %s\n", path);
        return 1;
    }
    int err = keyfile_read(file, len, derive_public, &k);
    sodium_memzero(file, sizeof file);
    if (err != KEYFILE_OK) {
        fprintf(stderr, PROG ": %s: %s\n", path, keyfile_strerror(err));
        return 1;
    }
    int rc = print_identity(&k);
    sodium_memzero(&k, sizeof k);
    return rc;
}

int main(int argc, char **argv) {
    if (sodium_init() < 0) {
        fprintf(stderr, PROG ": libsodium did not initialise\n");
        return 1;
    }
    if (argc == 2 && argv[1][0] != '-')
        return create(argv[1]);
    if (argc == 3 && strcmp(argv[1], "--show") == 0)
        return show(argv[2]);
    fprintf(stderr, "usage: " PROG " FILE          create a key file and print its CellID\n"
                    "       " PROG " --show FILE   print the CellID of a key file\n");
    return 2;
}
