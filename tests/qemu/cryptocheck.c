/*
 * cryptocheck: libsodium and the entropy syscall, checked from inside a Nexus fiber (test kernel
 * only; started by tests/qemu/run_cryptocheck.py with bootargs app=cryptocheck[,nodevice]).
 *   - known-answer tests of the compiled libsodium against published vectors: RFC 8032 Ed25519
 *     tests 1 and 2, RFC 7748 X25519 (5.2 and 6.1), RFC 7693's BLAKE2b-512("abc"), the
 *     XChaCha20-Poly1305 vector of draft-irtf-cfrg-xchacha (A.3.1), RFC 8439's ChaCha20-Poly1305
 *     (2.8.2), the SipHash paper's SipHash-2-4 vector; the Ed25519-to-X25519 conversion
 *     against host libsodium's answer for RFC 8032 test 1's key;
 *   - SYS_ENTROPY, getentropy() and getrandom(): fresh bytes, the errors for a long request and a
 *     bad pointer; with "nodevice" (a machine without virtio-rng), -ENODEV and ENOSYS instead,
 *     and then libsodium's randombytes_buf stopping the fiber with its line;
 *   - guest microseconds per sign, verify, seal, open (1 KiB each) and X25519 (the median of 16
 *     rounds), as an INFO line.
 * One line per check, `PASS crypto.<name>` or `FAIL crypto.<name>: <observed>`, then
 * `cryptocheck: done, N failed`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "nexus.h"
#include "sodium/crypto_aead_chacha20poly1305.h"
#include "sodium/crypto_aead_xchacha20poly1305.h"
#include "sodium/crypto_generichash.h"
#include "sodium/crypto_scalarmult.h"
#include "sodium/crypto_shorthash_siphash24.h"
#include "sodium/crypto_sign.h"

#define UNMAPPED_ADDR 0x50000000ul /* inside the user window, never mapped in this image */
#define KERNEL_ADDR   0x80200000ul /* outside the user window */
#define BENCH_MESSAGE 1024
#define BENCH_ROUNDS  16
#define BENCH_SETTLE_MS 1000 /* the other fibers' start (DHCP, httpd) is over by then */

static int failures;

/* Prints the check's line, then yields: the checks run back to back for a while, and on a
 * loaded host that must not look like a runaway to the kernel's watchdog. */
__attribute__((format(printf, 3, 4))) static void check(const char *name, int ok, const char *fmt, ...) {
    nx_yield();
    if (ok) {
        printf("PASS crypto.%s\n", name);
        return;
    }
    char detail[120];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    failures++;
    printf("FAIL crypto.%s: %s\n", name, detail);
}

/* Vectors are written as the documents print them: hex. */
static size_t unhex(uint8_t *out, size_t cap, const char *hex) {
    size_t n = 0;
    for (; hex[0] && hex[1] && n < cap; hex += 2) {
        unsigned byte;
        sscanf(hex, "%2x", &byte);
        out[n++] = (uint8_t)byte;
    }
    return n;
}

/* The first bytes of a result that differs, for the FAIL line. */
static const char *hex_prefix(const uint8_t *b, size_t n) {
    static char text[2 * 12 + 1];
    size_t i = 0;
    for (; i < n && i < 12; i++)
        snprintf(text + 2 * i, 3, "%02x", b[i]);
    text[2 * i] = 0;
    return text;
}

static void check_bytes(const char *name, const uint8_t *got, size_t n, const char *want_hex) {
    uint8_t want[256] = {0};
    size_t wn = unhex(want, sizeof want, want_hex);
    check(name, wn == n && memcmp(got, want, n) == 0, "got %s...", hex_prefix(got, n));
}

/* ---- known answers ---- */

static const struct {
    const char *name, *seed, *public_key, *message, *signature;
} ed25519_vectors[] = {
    {"ed25519.rfc8032_test1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24"
     "655141438e7a100b"},
    {"ed25519.rfc8032_test2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb0"
     "0d291612bb0c00"},
};

static void check_ed25519(void) {
    for (size_t i = 0; i < sizeof ed25519_vectors / sizeof ed25519_vectors[0]; i++) {
        uint8_t seed[32], pk[32], sk[64], message[8], sig[64], name[64];
        unhex(seed, sizeof seed, ed25519_vectors[i].seed);
        size_t mlen = unhex(message, sizeof message, ed25519_vectors[i].message);
        crypto_sign_seed_keypair(pk, sk, seed);
        snprintf((char *)name, sizeof name, "%s.public_key", ed25519_vectors[i].name);
        check_bytes((char *)name, pk, sizeof pk, ed25519_vectors[i].public_key);
        crypto_sign_detached(sig, NULL, message, mlen, sk);
        snprintf((char *)name, sizeof name, "%s.signature", ed25519_vectors[i].name);
        check_bytes((char *)name, sig, sizeof sig, ed25519_vectors[i].signature);
        snprintf((char *)name, sizeof name, "%s.verify", ed25519_vectors[i].name);
        check((char *)name, crypto_sign_verify_detached(sig, message, mlen, pk) == 0, "a good signature refused");
        sig[17] ^= 0x01;
        snprintf((char *)name, sizeof name, "%s.verify_refuses_flipped_bit", ed25519_vectors[i].name);
        check((char *)name, crypto_sign_verify_detached(sig, message, mlen, pk) != 0, "a damaged signature accepted");
    }
}

/* RFC 8032 test 1's key as X25519 keys; the expected values are host libsodium's (libsodium-dev,
 * the same conversion built natively), and the two halves must agree with each other. */
static void check_ed25519_to_x25519(void) {
    uint8_t seed[32], pk[32], sk[64], xpk[32], xsk[32], derived[32];
    unhex(seed, sizeof seed, ed25519_vectors[0].seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    check("ed25519_to_x25519.public_key", crypto_sign_ed25519_pk_to_curve25519(xpk, pk) == 0, "refused");
    check_bytes("ed25519_to_x25519.public_key_value", xpk, sizeof xpk,
                "d85e07ec22b0ad881537c2f44d662d1a143cf830c57aca4305d85c7a90f6b62e");
    crypto_sign_ed25519_sk_to_curve25519(xsk, sk);
    check_bytes("ed25519_to_x25519.secret_key_value", xsk, sizeof xsk,
                "307c83864f2833cb427a2ef1c00a013cfdff2768d980c0a3a520f006904de94f");
    crypto_scalarmult_base(derived, xsk);
    check("ed25519_to_x25519.halves_agree", memcmp(derived, xpk, sizeof xpk) == 0, "base * secret %s...",
          hex_prefix(derived, sizeof derived));
}

static const struct {
    const char *name, *scalar, *u, *result;
} x25519_vectors[] = {
    {"x25519.rfc7748_5_2_first", "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
     "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
    {"x25519.rfc7748_5_2_second", "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
     "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
    /* 6.1: Alice's secret with Bob's public key, and Bob's with Alice's: the shared secret. */
    {"x25519.rfc7748_6_1_alice", "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
     "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
     "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
    {"x25519.rfc7748_6_1_bob", "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
     "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
     "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
};

static void check_x25519(void) {
    for (size_t i = 0; i < sizeof x25519_vectors / sizeof x25519_vectors[0]; i++) {
        uint8_t scalar[32], u[32], q[32];
        unhex(scalar, sizeof scalar, x25519_vectors[i].scalar);
        unhex(u, sizeof u, x25519_vectors[i].u);
        int err = crypto_scalarmult(q, scalar, u);
        check_bytes(x25519_vectors[i].name, q, err ? 0 : sizeof q, x25519_vectors[i].result);
    }
    /* 6.1: Alice's public key from her secret. */
    uint8_t scalar[32], pk[32];
    unhex(scalar, sizeof scalar, x25519_vectors[2].scalar);
    crypto_scalarmult_base(pk, scalar);
    check_bytes("x25519.rfc7748_6_1_alice_public", pk, sizeof pk, x25519_vectors[3].u);
}

static void check_blake2b_and_siphash(void) {
    uint8_t digest[64];
    crypto_generichash(digest, sizeof digest, (const uint8_t *)"abc", 3, NULL, 0);
    check_bytes("blake2b.rfc7693_abc", digest, sizeof digest,
                "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc95"
                "18d38aa8dbf1925ab92386edd4009923");
    uint8_t key[16], message[15], tag[8];
    for (unsigned i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)i;
    memcpy(message, key, sizeof message);
    crypto_shorthash_siphash24(tag, message, sizeof message, key);
    /* The SipHash paper's Appendix A: 0xa129ca6149be45e5, little-endian. */
    check_bytes("siphash24.paper_appendix_a", tag, sizeof tag, "e545be4961ca29a1");
}

static const char sunscreen[] = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
                                "the future, sunscreen would be it.";
static const char aead_ad[] = "50515253c0c1c2c3c4c5c6c7";

typedef int (*aead_seal_fn)(unsigned char *, unsigned long long *, const unsigned char *, unsigned long long,
                            const unsigned char *, unsigned long long, const unsigned char *, const unsigned char *,
                            const unsigned char *);
typedef int (*aead_open_fn)(unsigned char *, unsigned long long *, unsigned char *, const unsigned char *,
                            unsigned long long, const unsigned char *, unsigned long long, const unsigned char *,
                            const unsigned char *);

static const struct {
    const char *name, *nonce, *sealed; /* sealed: ciphertext then tag */
    aead_seal_fn seal;
    aead_open_fn open;
} aead_vectors[] = {
    {"xchacha20poly1305.draft_xchacha_a_3_1", "404142434445464748494a4b4c4d4e4f5051525354555657",
     "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c2"
     "16cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b"
     "13b52ec0875924c1c7987947deafd8780acf49",
     crypto_aead_xchacha20poly1305_ietf_encrypt, crypto_aead_xchacha20poly1305_ietf_decrypt},
    {"chacha20poly1305.rfc8439_2_8_2", "070000004041424344454647",
     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b29"
     "05d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b"
     "61161ae10b594f09e26a7e902ecbd0600691",
     crypto_aead_chacha20poly1305_ietf_encrypt, crypto_aead_chacha20poly1305_ietf_decrypt},
};

static void check_aead(void) {
    uint8_t key[32], nonce[24], ad[12], sealed[sizeof sunscreen - 1 + 16], opened[sizeof sunscreen];
    char name[80];
    for (unsigned i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(0x80 + i);
    unhex(ad, sizeof ad, aead_ad);
    for (size_t i = 0; i < sizeof aead_vectors / sizeof aead_vectors[0]; i++) {
        unhex(nonce, sizeof nonce, aead_vectors[i].nonce);
        unsigned long long n = 0;
        aead_vectors[i].seal(sealed, &n, (const uint8_t *)sunscreen, sizeof sunscreen - 1, ad, sizeof ad, NULL, nonce,
                             key);
        snprintf(name, sizeof name, "%s.seal", aead_vectors[i].name);
        check_bytes(name, sealed, (size_t)n, aead_vectors[i].sealed);
        snprintf(name, sizeof name, "%s.open", aead_vectors[i].name);
        int err = aead_vectors[i].open(opened, &n, NULL, sealed, sizeof sealed, ad, sizeof ad, nonce, key);
        check(name, err == 0 && n == sizeof sunscreen - 1 && memcmp(opened, sunscreen, n) == 0, "error %d, %llu bytes",
              err, n);
        ad[0] ^= 0x80;
        snprintf(name, sizeof name, "%s.open_refuses_changed_ad", aead_vectors[i].name);
        err = aead_vectors[i].open(opened, &n, NULL, sealed, sizeof sealed, ad, sizeof ad, nonce, key);
        check(name, err != 0, "changed associated data accepted");
        ad[0] ^= 0x80;
    }
}

/* ---- entropy ---- */

static int all_zero(const uint8_t *b, size_t n) {
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    return acc == 0;
}

static void check_entropy_present(void) {
    uint8_t a[256], b[256];
    long na = nx_entropy(a, 32), nb = nx_entropy(b, 32);
    check("entropy.syscall_fresh", na == 32 && nb == 32 && memcmp(a, b, 32) != 0 && !all_zero(a, 32),
          "returned %ld and %ld", na, nb);
    check("entropy.syscall_256", nx_entropy(a, 256) == 256 && !all_zero(a, 128) && !all_zero(a + 128, 128),
          "256 bytes not drawn");
    check("entropy.syscall_zero_length", nx_entropy(a, 0) == 0, "len 0 not 0");
    long r = nx_entropy(a, 257);
    check("entropy.syscall_257_einval", r == -EINVAL, "returned %ld", r);
    r = nx_entropy((void *)UNMAPPED_ADDR, 16);
    check("entropy.syscall_unmapped_efault", r == -EFAULT, "returned %ld", r);
    r = nx_entropy((void *)KERNEL_ADDR, 16);
    check("entropy.syscall_kernel_efault", r == -EFAULT, "returned %ld", r);
    r = nx_entropy((void *)sunscreen, 16); /* read-only data: the kernel must not write it */
    check("entropy.syscall_readonly_efault", r == -EFAULT, "returned %ld", r);

    memset(a, 0, sizeof a), memset(b, 0, sizeof b);
    int ra = getentropy(a, 32), rb = getentropy(b, 32);
    check("getentropy.fresh", ra == 0 && rb == 0 && memcmp(a, b, 32) != 0 && !all_zero(a, 32),
          "returned %d and %d", ra, rb);
    errno = 0;
    check("getentropy.257_einval", getentropy(a, 257) == -1 && errno == EINVAL, "errno %d", errno);
    errno = 0;
    check("getentropy.bad_pointer_efault", getentropy((void *)UNMAPPED_ADDR, 16) == -1 && errno == EFAULT,
          "errno %d", errno);

    static uint8_t big[1000]; /* larger than one draw: getrandom loops */
    ssize_t got = getrandom(big, sizeof big, 0);
    check("getrandom.1000_bytes", got == (ssize_t)sizeof big && !all_zero(big, 256) && !all_zero(big + 744, 256),
          "returned %ld", (long)got);
    got = getrandom(a, 64, GRND_NONBLOCK | GRND_RANDOM);
    check("getrandom.flags_accepted", got == 64, "returned %ld errno %d", (long)got, errno);
    errno = 0;
    got = getrandom(a, 16, 0x100);
    check("getrandom.unknown_flag_einval", got == -1 && errno == EINVAL, "returned %ld errno %d", (long)got, errno);
    errno = 0;
    got = getrandom((void *)UNMAPPED_ADDR, 16, 0);
    check("getrandom.bad_pointer_efault", got == -1 && errno == EFAULT, "returned %ld errno %d", (long)got, errno);

    /* libsodium's randomness is the syscall's: two fresh key pairs differ. */
    uint8_t pk1[32], pk2[32], sk[64];
    crypto_sign_keypair(pk1, sk);
    crypto_sign_keypair(pk2, sk);
    check("randombytes.fresh_keypairs", memcmp(pk1, pk2, sizeof pk1) != 0, "two key pairs are equal");
}

static void check_entropy_absent(void) {
    uint8_t a[32];
    long r = nx_entropy(a, sizeof a);
    check("entropy.no_device_enodev", r == -ENODEV, "returned %ld", r);
    r = nx_entropy(a, 257);
    check("entropy.no_device_257_einval", r == -EINVAL, "returned %ld", r);
    errno = 0;
    check("getentropy.no_device_enosys", getentropy(a, sizeof a) == -1 && errno == ENOSYS, "errno %d", errno);
    errno = 0;
    check("getrandom.no_device_enosys", getrandom(a, sizeof a, 0) == -1 && errno == ENOSYS, "errno %d", errno);
}

/* ---- guest time per operation ---- */

/* One operation on 1 KiB with a fixed key: each returns 0 on success. */
static struct {
    uint8_t message[BENCH_MESSAGE], sealed[BENCH_MESSAGE + 16], opened[BENCH_MESSAGE];
    uint8_t pk[32], sk[64], sig[64], key[32], nonce[24], shared[32];
} bench;

static int op_sign(void) { return crypto_sign_detached(bench.sig, NULL, bench.message, BENCH_MESSAGE, bench.sk); }
static int op_verify(void) { return crypto_sign_verify_detached(bench.sig, bench.message, BENCH_MESSAGE, bench.pk); }
static int op_seal(void) {
    return crypto_aead_xchacha20poly1305_ietf_encrypt(bench.sealed, NULL, bench.message, BENCH_MESSAGE, NULL, 0, NULL,
                                                      bench.nonce, bench.key);
}
static int op_open(void) {
    return crypto_aead_xchacha20poly1305_ietf_decrypt(bench.opened, NULL, NULL, bench.sealed, sizeof bench.sealed,
                                                      NULL, 0, bench.nonce, bench.key);
}
static int op_x25519(void) { return crypto_scalarmult(bench.shared, bench.key, bench.pk); }

/* In the order they depend on each other: verify needs sign's signature, open seal's box. */
static const struct {
    const char *name;
    int (*run)(void);
} bench_ops[] = {
    {"sign", op_sign}, {"verify", op_verify}, {"seal_1k", op_seal}, {"open_1k", op_open}, {"x25519", op_x25519},
};

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Only the operation is timed, and the median round is reported: under TCG the guest's clock
 * runs in host time, so a round in which the host or another fiber took the CPU would skew a
 * mean. The fiber yields between rounds, so that a slow machine's rounds never look like a
 * runaway to the kernel's watchdog, and starts after the boot's busiest second. */
static void measure(void) {
    char line[160];
    uint64_t rounds_ns[BENCH_ROUNDS];
    int at = snprintf(line, sizeof line, "INFO crypto guest us per op:"), ok = 1;
    nx_sleep_ns(NX_MS(BENCH_SETTLE_MS));
    bench.key[0] = 1, bench.nonce[0] = 2;
    crypto_sign_seed_keypair(bench.pk, bench.sk, bench.key);
    for (size_t i = 0; i < sizeof bench_ops / sizeof bench_ops[0]; i++) {
        for (int round = 0; round < BENCH_ROUNDS; round++) {
            uint64_t t = nx_clock_ns();
            ok &= bench_ops[i].run() == 0;
            rounds_ns[round] = nx_clock_ns() - t;
            nx_yield();
        }
        qsort(rounds_ns, BENCH_ROUNDS, sizeof rounds_ns[0], by_value);
        at += snprintf(line + at, sizeof line - (size_t)at, " %s %lu", bench_ops[i].name,
                       (unsigned long)(rounds_ns[BENCH_ROUNDS / 2] / 1000));
    }
    check("bench.operations_succeeded", ok, "a measured operation failed");
    printf("%s\n", line);
}

int main(int argc, char **argv) {
    int no_device = argc > 1 && strcmp(argv[1], "nodevice") == 0;
    check_ed25519();
    check_ed25519_to_x25519();
    check_x25519();
    check_blake2b_and_siphash();
    check_aead();
    if (no_device) {
        check_entropy_absent();
    } else {
        check_entropy_present();
        measure();
    }
    printf("cryptocheck: done, %d failed\n", failures);
    if (no_device) {
        /* A key needs randomness: without a device libsodium must stop this fiber, saying why. */
        uint8_t pk[32], sk[64];
        crypto_sign_keypair(pk, sk);
        printf("cryptocheck: crypto_sign_keypair returned without entropy\n");
    }
    return failures;
}
