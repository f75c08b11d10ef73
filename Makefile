# Nexus build. `make` builds the kernel image (with its embedded service images), `make run`
# boots it, `make test` runs every test. tools/bootstrap.sh installs what is missing first.

# No built-in rules: every rule is below. (Make's `%: %.o` link rule would otherwise offer to
# remake the included dependency files as programs.)
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:
# Every core by default: a fresh clone's `make run` builds lwIP, libsodium, libfdt and every
# service image before it boots (about 40 s on one core of these machines, 21 s on two). The
# rules are written for parallel builds (fetch-source.sh keeps a private apt state per package).
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 1)

CROSS    ?= riscv64-unknown-elf-
CC       := $(CROSS)gcc
OBJCOPY  := $(CROSS)objcopy
SIZE     := $(CROSS)size
QEMU     ?= qemu-system-riscv64
OPENSBI  ?= /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
MEM      ?= 128M
PORT     ?= 8080
GDBPORT  ?= 1234
B        := build
# Preloaded into QEMU (tools/hostfwd_backlog.c; the rule and why are under "run" below).
QEMU_PRELOAD := $(B)/hostfwd-backlog.so
# A literal comma, for QEMU option lists inside make functions such as $(if): a bare comma there
# would end the function's argument.
comma    := ,

# rv64imac without floating point: no FPU state to switch, and picolibc's integer printf.
# Code is compiled with the CSR/fence extensions spelled out (GCC 12 wants them named); the link
# names plain rv64imac so GCC picks picolibc's rv64imac/lp64 multilib. -MD, not -MMD: libnexus
# replaces headers that picolibc's own include (<sys/stat.h> includes <time.h>, <termios.h>
# includes <sys/termios.h>), and -MMD leaves out everything reached through a system header.
ARCH     := -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany
LINKARCH := -march=rv64imac -mabi=lp64 -mcmodel=medany
PICO     := --specs=picolibc.specs -DPICOLIBC_INTEGER_PRINTF_SCANF
# A section per function and per object, so the link's --gc-sections drops what nothing calls
# (without them it could only drop whole files: every app carried all of libnexus).
CFLAGS   := $(ARCH) $(PICO) -std=gnu11 -O2 -g -ffreestanding -fno-common -fno-builtin-printf \
            -ffunction-sections -fdata-sections -Wall -Wextra -Werror -MD -MP
# The kernel is optimised as one program at its link too (docs/ion.md, "Measured"): a frame's
# way through the driver, the NetSwitch and the rings crossed files in calls, each a lookup of the
# next translated block under QEMU (40 % fewer of the kernel's per bulk MiB). The link compiles
# with -misa-spec=2.2, whose "i" includes the CSR and fence.i instructions: the compile's
# -march naming zicsr would pick another multilib (rv64gc, hard float) for picolibc and libgcc.
KERNEL_LTO := -flto=auto
KCFLAGS  := $(CFLAGS) -Ikernel -Ihal/virtio -Inetswitch -Iion -Iinclude $(KERNEL_LTO)
UCFLAGS  := $(CFLAGS) -Ilib/rt -Iinclude -Iion
LDFLAGS  := $(LINKARCH) $(PICO) -nostartfiles -static -Wl,--gc-sections -Wl,--no-warn-rwx-segments

# Flags as a dependency: $(call flags_file,NAME,FLAGS) names build/flags/NAME, which is rewritten
# while the Makefile is read, and only when FLAGS differ from what it holds. Objects depend on
# their class's file, so a changed option rebuilds exactly what is compiled with it (without
# this an older build tree kept libsodium built without -ffunction-sections). A target's own
# additions (`X.o: UCFLAGS += ...`) are not part of its class's file.
same_text  = $(and $(findstring x$(1)x,x$(2)x),$(findstring x$(2)x,x$(1)x))
flags_file = $(B)/flags/$(1)$(if $(call same_text,$(strip $(file <$(B)/flags/$(1))),$(strip $(2))),,$(shell mkdir -p $(B)/flags)$(file >$(B)/flags/$(1),$(strip $(2))))
KERNEL_FLAGS := $(call flags_file,kernel,$(KCFLAGS) $(ARCH))
LINK_FLAGS   := $(call flags_file,link,$(LDFLAGS))

# Sources only the test kernel has (see "test build" below): the in-QEMU test runners, the
# guest-time profile (kernel/profile.h), the NetSwitch's RX cost histogram and its forged RX
# completions.
KERNEL_TEST_ONLY_SRCS := kernel/selftest.c kernel/profile.c netswitch/rx_cost.c netswitch/rx_forge.c
KERNEL_SRCS := $(filter-out $(KERNEL_TEST_ONLY_SRCS),$(wildcard kernel/*.c hal/virtio/*.c netswitch/*.c)) ion/ion_pool.c ion/unix_lane.c
KERNEL_ASM  := $(wildcard kernel/*.S)
KERNEL_OBJS := $(KERNEL_SRCS:%.c=$(B)/k/%.o) $(KERNEL_ASM:%.S=$(B)/k/%.o) $(B)/k/images.o
RT_OBJS     := $(B)/u/lib/rt/crt0.o $(B)/u/lib/rt/nexus.o $(B)/u/lib/rt/heap.o $(B)/u/lib/rt/time.o

# lwIP comes from Debian's source package (tools/sources.lock), unpacked into the build tree and
# compiled unpatched with the port in lwip/. The Membrane links it; nothing else does.
LWIP_VERSION := $(shell awk '$$1 == "lwip" { print $$2 }' tools/sources.lock)
LWIP_DIR     := $(B)/third_party/lwip
LWIP_STAMP   := $(LWIP_DIR)/.fetched-$(LWIP_VERSION)
LWIP_CORE    := init def dns inet_chksum ip mem memp netif pbuf raw stats sys tcp tcp_in tcp_out \
                timeouts udp ipv4/dhcp ipv4/etharp ipv4/icmp ipv4/igmp ipv4/ip4 ipv4/ip4_addr \
                ipv4/ip4_frag ipv4/autoip ipv6/dhcp6 ipv6/ethip6 ipv6/icmp6 ipv6/inet6 ipv6/ip6 \
                ipv6/ip6_addr ipv6/ip6_frag ipv6/mld6 ipv6/nd6
LWIP_OBJS    := $(LWIP_CORE:%=$(B)/lwip/core/%.o) $(B)/lwip/netif/ethernet.o
LWIP_INC     := -Ilwip -I$(LWIP_DIR)/src/include
# The Membrane (lwIP and our glue) is optimised as one program at its link: a frame crosses
# lwIP's files in calls, and under QEMU every return and every call to another page of code is a
# lookup of the next translated block, a whole-table search after each address-space switch
# empties QEMU's jump cache (docs/ion.md, "Measured": the Membrane 6 % fewer instructions per
# bulk MiB, 12 % fewer lookups).
MEMBRANE_LTO := -flto=auto
# lwIP's own sources are third-party: warnings are theirs, so no -Werror for them.
LWIP_CFLAGS  := $(filter-out -Werror -Wextra,$(UCFLAGS)) $(LWIP_INC) $(MEMBRANE_LTO)
MEMBRANE_OBJS := $(B)/m/membrane/membrane.o $(patsubst %.c,$(B)/m/%.o,$(filter-out membrane/membrane.c \
                   membrane/fault_inject.c,$(wildcard membrane/*.c))) $(B)/m/lib/link/sockproto.o $(B)/m/lib/link/server.o $(B)/m/lib/port/port.o \
                 $(B)/m/lwip/netif_ion.o $(B)/m/lwip/chksum.o $(B)/m/lwip/tx_buffers.o $(B)/m/lwip/tcp_send.o $(B)/m/lwip/send_area.o $(B)/m/lwip/rx_frame_policy.o $(B)/m/lwip/rx_ack_coalesce.o $(B)/m/lwip/tcp_syn_guard.o $(B)/m/lwip/tcp_syn_cookie.o $(B)/m/lwip/arp_pins.o $(LWIP_OBJS)

# The Membrane sees the POSIX headers of libnexus for the socket constants it shares with apps.
MEMBRANE_CFLAGS := -Imembrane -Ilib -Ilib/libnexus/include $(MEMBRANE_LTO)

# libfdt comes from Debian's device-tree-compiler source package (tools/sources.lock), unpacked
# into the build tree and compiled unpatched into the kernel: the whole library (its
# Makefile.libfdt's list), a section per function so the link keeps only what kernel/fdt.c
# calls. Its headers include <fdt.h>, so only libfdt's own folder is on its include path (never
# kernel/, which has an fdt.h of its own). Its warnings are its own: no -Werror. -fwrapv: its
# fdt_next_tag (1.7.2) adds a hostile property length near INT_MAX to an int offset; wrapping
# makes that defined (so the sanitizers' overflow check does not apply), and its own bounds
# check then refuses the offset.
LIBFDT_VERSION := $(shell awk '$$1 == "device-tree-compiler" { print $$2 }' tools/sources.lock)
LIBFDT_DIR     := $(B)/third_party/device-tree-compiler/libfdt
LIBFDT_STAMP   := $(B)/third_party/device-tree-compiler/.fetched-$(LIBFDT_VERSION)
LIBFDT_PARTS   := fdt fdt_ro fdt_wip fdt_sw fdt_rw fdt_strerror fdt_empty_tree fdt_addresses \
                  fdt_overlay fdt_check
LIBFDT_SRCS    := $(LIBFDT_PARTS:%=$(LIBFDT_DIR)/%.c)
LIBFDT_CFLAGS  := $(filter-out -Werror -Wextra,$(CFLAGS)) -fwrapv -ffunction-sections -fdata-sections \
                  -I$(LIBFDT_DIR)
KERNEL_OBJS    += $(LIBFDT_PARTS:%=$(B)/libfdt/%.o)

# Apps using sockets compile against the POSIX headers of libnexus and link it.
LIBNEXUS_OBJS := $(patsubst %.c,$(B)/u/%.o,$(wildcard lib/libnexus/*.c)) $(B)/u/lib/link/sockproto.o \
                 $(B)/u/lib/link/client.o $(B)/u/ion/unix_lane.o
POSIX_CFLAGS  := -Ilib/libnexus/include -Ilib/libnexus -Ilib
USER_FLAGS    := $(call flags_file,user,$(UCFLAGS) $(POSIX_CFLAGS) $(LWIP_INC) $(MEMBRANE_CFLAGS))
LWIP_FLAGS    := $(call flags_file,lwip,$(LWIP_CFLAGS))
LIBFDT_FLAGS  := $(call flags_file,libfdt,$(LIBFDT_CFLAGS))

# libsodium comes from Debian's source package (tools/sources.lock), unpacked into the build
# tree and compiled unpatched, freestanding, without its configure step: the three defines below
# stand for what configure would find on rv64 (../shared/PITFALLS.md), and version.h is made
# from its template. Only the primitives the services use are compiled: Ed25519 (with SHA-512
# and the Ed25519-to-X25519 conversion), X25519, BLAKE2b, SipHash-2-4, and the ChaCha20-Poly1305
# and XChaCha20-Poly1305 IETF AEADs. Its core.c (sodium_init) and randombytes/ are left out:
# lib/crypto/sodium_nexus.c supplies randombytes_buf over SYS_ENTROPY and sodium_misuse.
# Its warnings are its own: no -Werror. A section per function, so an image keeps what it calls.
# A service that uses libsodium: compile with $(SODIUM_CFLAGS) (then #include <sodium.h>, or
# the single headers as <sodium/crypto_sign.h>) and link $(SODIUM_OBJS); images that do not
# use it never see it.
SODIUM_VERSION := $(shell awk '$$1 == "libsodium" { print $$2 }' tools/sources.lock)
SODIUM_DIR     := $(B)/third_party/libsodium
SODIUM_STAMP   := $(SODIUM_DIR)/.fetched-$(SODIUM_VERSION)
SODIUM_SRC     := $(SODIUM_DIR)/src/libsodium
SODIUM_GEN     := $(B)/sodium/include
SODIUM_VERSION_H := $(SODIUM_GEN)/sodium/version.h
SODIUM_PARTS   := crypto_sign/crypto_sign crypto_sign/ed25519/sign_ed25519 crypto_sign/ed25519/ref10/keypair \
                  crypto_sign/ed25519/ref10/sign crypto_sign/ed25519/ref10/open \
                  crypto_core/ed25519/ref10/ed25519_ref10 crypto_hash/sha512/hash_sha512 \
                  crypto_hash/sha512/cp/hash_sha512_cp crypto_scalarmult/crypto_scalarmult \
                  crypto_scalarmult/curve25519/scalarmult_curve25519 crypto_scalarmult/curve25519/ref10/x25519_ref10 \
                  crypto_generichash/crypto_generichash crypto_generichash/blake2b/ref/generichash_blake2b \
                  crypto_generichash/blake2b/ref/blake2b-ref crypto_generichash/blake2b/ref/blake2b-compress-ref \
                  crypto_aead/chacha20poly1305/sodium/aead_chacha20poly1305 \
                  crypto_aead/xchacha20poly1305/sodium/aead_xchacha20poly1305 crypto_core/hchacha20/core_hchacha20 \
                  crypto_stream/chacha20/stream_chacha20 crypto_stream/chacha20/ref/chacha20_ref \
                  crypto_onetimeauth/poly1305/onetimeauth_poly1305 crypto_onetimeauth/poly1305/donna/poly1305_donna \
                  crypto_shorthash/crypto_shorthash crypto_shorthash/siphash24/shorthash_siphash24 \
                  crypto_shorthash/siphash24/shorthash_siphashx24 crypto_shorthash/siphash24/ref/shorthash_siphash24_ref \
                  crypto_shorthash/siphash24/ref/shorthash_siphashx24_ref crypto_verify/sodium/verify sodium/utils
SODIUM_OBJS    := $(SODIUM_PARTS:%=$(B)/sodium/%.o) $(B)/u/lib/crypto/sodium_nexus.o
SODIUM_CFLAGS  := -I$(SODIUM_SRC)/include -I$(SODIUM_GEN)
SODIUM_BUILD_CFLAGS := $(filter-out -Werror -Wextra,$(UCFLAGS)) -ffunction-sections -fdata-sections \
                       -DCONFIGURED=1 -DHAVE_TI_MODE=1 -DNATIVE_LITTLE_ENDIAN=1 \
                       -I$(SODIUM_SRC)/include/sodium -I$(SODIUM_GEN)/sodium

# Service images embedded in the kernel: name -> sources. The boot manifest is kernel/manifest.c.
# The product image embeds exactly what its boot manifest runs; the test kernel adds the test
# programs (and replaces the Membrane with its fault-injecting build).
IMAGES      := hello uptime httpd membrane lwf lwfecho lwfping signer rinetd mosquitto utcp utcpcat utcpsink utcpget tee
TEST_IMAGES := posixcheck probe netsvc cryptocheck lwfsend unixecho
IMAGE_ELFS  := $(IMAGES:%=$(B)/user/%.elf)

HOST_CC     := gcc
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined \
               -fno-sanitize-recover=all -Ikernel -Inetswitch -Iion -Iinclude -Ilib -Iapps/httpd
HOST_TESTS  := family manifest fdt bus elf pagealloc bootargs route ion_ring ion_pool inet sockproto http_parse pledge cspace httpdoc \
               virtqueue rx_frame_policy lwf_vectors lwf_frame lwf_reassembly virtio_rng
HOST_UNIT_SRC_fdt       := kernel/fdt.c $(LIBFDT_SRCS)
HOST_UNIT_SRC_family     = lib/libnexus/family.c $(HOST_UNIX_FAMILY)
HOST_UNIT_SRC_rx_frame_policy := lwip/rx_frame_policy.c
# pure ACKs a later one in the same RX batch makes redundant: the parser and the marking
HOST_TESTS  += ack_coalesce
HOST_UNIT_SRC_ack_coalesce := lwip/rx_ack_coalesce.c lwip/chksum.c tests/fuzz/frame_repair.c
HOST_UNIT_SRC_manifest  := kernel/manifest.c kernel/cspace.c kernel/pledge.c kernel/restart_policy.c
HOST_UNIT_SRC_bus       := kernel/bus.c
HOST_UNIT_SRC_elf       := kernel/elf.c
HOST_UNIT_SRC_pagealloc := kernel/pagealloc.c
HOST_UNIT_SRC_bootargs  := kernel/bootargs.c
HOST_TESTS  += ipv4_prefix
HOST_UNIT_SRC_ipv4_prefix := membrane/ipv4_prefix.c
$(B)/ho/tests/host/test_ipv4_prefix.o: HOST_CFLAGS += -Imembrane
HOST_UNIT_SRC_route     := netswitch/route.c
HOST_UNIT_SRC_ion_ring  :=
HOST_UNIT_SRC_ion_pool  := ion/ion_pool.c
HOST_UNIT_SRC_inet      :=
HOST_UNIT_SRC_sockproto := lib/link/sockproto.c
HOST_UNIT_SRC_http_parse := apps/httpd/http_parse.c
HOST_UNIT_SRC_pledge    := kernel/pledge.c
HOST_UNIT_SRC_cspace    := kernel/cspace.c
# the virtqueue over heap pages, the test playing the device
HOST_UNIT_SRC_virtqueue := hal/virtio/virtqueue.c tests/host/host_pages.c
# virtio-rng over the real virtqueue, the test playing the device and the clock (its riscv.h stub)
HOST_UNIT_SRC_virtio_rng := hal/virtio/virtio_rng.c hal/virtio/virtqueue.c tests/host/host_pages.c
# httpd without main(), over a /Bus tree each test chooses (= : HTTPD_SRCS comes further down)
HOST_UNIT_SRC_httpdoc    = $(filter-out apps/httpd/httpd.c,$(HTTPD_SRCS)) tests/host/httpd_script_sysinfo.c \
                           tests/host/httpdoc_check.c
FUZZ_TARGETS := fdt elf bus bootargs ion_ring inet sockproto http_parse pledge cspace httpdoc virtqueue lwf_frame \
                lwip_input ack_coalesce
# The key file reader (lib/identity/), shared by nexus-keygen and the signing service.
HOST_TESTS   += keyfile
FUZZ_TARGETS += keyfile
HOST_UNIT_SRC_keyfile := lib/identity/keyfile.c
# The signer's request check (signer/request.c): every field of a client's request.
HOST_TESTS   += signproto
FUZZ_TARGETS += signproto
HOST_UNIT_SRC_signproto := signer/request.c
# libnexus's AF_UNIX family on the host, its syscalls answered by no kernel (-ENOSYS).
HOST_UNIX_FAMILY := lib/libnexus/unix.c lib/libnexus/unix_named.c ion/unix_lane.c tests/host/unix_no_kernel.c
# An AF_UNIX lane's two ends (ion/unix_lane.c): the peer may scribble on the shared header.
HOST_TESTS   += unix_lane
FUZZ_TARGETS += unix_lane
HOST_UNIT_SRC_unix_lane := ion/unix_lane.c
# The kernel's AF_UNIX namespace and connections (kernel/unix.c) under any order of calls by
# four fibers that die at any time; pages, mappings and the fiber's helpers faked by the target.
FUZZ_TARGETS += unix_ns
HOST_UNIT_SRC_unix_ns := kernel/unix.c kernel/cspace.c kernel/bus.c ion/unix_lane.c
# libnexus's AF_UNIX backend (lib/libnexus/unix.c) answering socket requests, as socket.c makes them.
HOST_TESTS   += unix
HOST_UNIT_SRC_unix := $(HOST_UNIX_FAMILY)
# the Membrane's receive path: the port, the netif and lwIP (Membrane's options) over a fake kernel
MEMBRANE_RX_PATH_SRC := lwip/netif_ion.c lwip/chksum.c lwip/tx_buffers.c lwip/tcp_send.c lwip/send_area.c lwip/rx_frame_policy.c lwip/rx_ack_coalesce.c lwip/tcp_syn_guard.c lwip/tcp_syn_cookie.c lib/port/port.c \
                        tests/fuzz/fake_port.c tests/fuzz/frame_repair.c $(LWIP_CORE:%=$(LWIP_DIR)/src/core/%.c) \
                        $(LWIP_DIR)/src/netif/ethernet.c
HOST_UNIT_SRC_lwip_input := $(MEMBRANE_RX_PATH_SRC)
# SYN cookies: an evicted half-open connection re-created through that receive path
HOST_TESTS   += syn_cookie
# ... and the TIME_WAIT list held to its newest entries (membrane/tcp_timewait.h)
HOST_UNIT_SRC_syn_cookie := $(MEMBRANE_RX_PATH_SRC) membrane/tcp_timewait.c
$(B)/ho/tests/host/test_syn_cookie.o: HOST_CFLAGS += -Itests/fuzz -Imembrane # fake_port.h, frame_repair.h, tcp_timewait.h
# the Membrane's Internet checksum against lwIP's own, every alignment and length
HOST_TESTS   += chksum
HOST_UNIT_SRC_chksum := lwip/chksum.c $(LWIP_DIR)/src/core/inet_chksum.c $(LWIP_DIR)/src/core/def.c
# zero-copy TX: bulk sends through lent TX buffers, the stream as a client sees it, every loan back
HOST_TESTS   += tcp_send
HOST_UNIT_SRC_tcp_send := $(MEMBRANE_RX_PATH_SRC)
$(B)/ho/tests/host/test_tcp_send.o: HOST_CFLAGS += -Itests/fuzz

BOOTSTRAP := $(B)/.bootstrap-done

.PHONY: all run debug test host-tests fuzzers fuzz bench clean
all: $(B)/nexus.elf $(QEMU_PRELOAD)

$(BOOTSTRAP): tools/bootstrap.sh
	@tools/bootstrap.sh
	@mkdir -p $(B) && touch $@

# ---- kernel ----
$(B)/k/%.o: %.c $(KERNEL_FLAGS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@

$(B)/k/%.o: %.S $(KERNEL_FLAGS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(CC) $(ARCH) -c $< -o $@

$(LIBFDT_STAMP): tools/sources.lock tools/fetch-source.sh | $(BOOTSTRAP)
	tools/fetch-source.sh device-tree-compiler

$(B)/libfdt/%.o: $(LIBFDT_STAMP) $(LIBFDT_FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFDT_CFLAGS) -c $(LIBFDT_DIR)/$*.c -o $@

# kernel/fdt.c reads the device tree through libfdt. libfdt.h includes <fdt.h> too, so libfdt's
# folder comes first; kernel/fdt.c's own "fdt.h" is found beside it all the same.
$(B)/k/kernel/fdt.o: $(LIBFDT_STAMP)
$(B)/k/kernel/fdt.o: KCFLAGS := -I$(LIBFDT_DIR) $(KCFLAGS)

# A kernel image's embedded services: the assembly tools/gen-images.sh writes into $(1) for the
# image files $(2), and its object $(3). One per kernel image (this one, the serving and the
# test image below), each called once its list is final.
define embedded_images
$(1): Makefile $(2) tools/gen-images.sh
	tools/gen-images.sh $$@ $(2)

$(3): $(1) $$(KERNEL_FLAGS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ARCH) -c $$< -o $$@
endef
$(eval $(call embedded_images,$(B)/images.S,$(IMAGE_ELFS),$(B)/k/images.o))

# The kernel zeroes every page it hands out, loads images and shifts /Bus entries: it links
# picolibc's speed build too. The size build's memset and memmove move a byte per loop: loading
# the default manifest's services took 17 M instructions of boot, mostly zeroing their bss, and
# a new /Bus key ~100 k (a Membrane restart republishes ~50).
KERNEL_LIBC := --picolibc-buildtype=release
# private: the images the kernel embeds are its prerequisites and would inherit it.
$(B)/nexus.elf $(B)/nexus-test.elf $(B)/nexus-serving.elf: private LDFLAGS += $(KERNEL_LIBC) $(KERNEL_LTO) -O2 -misa-spec=2.2
$(B)/nexus.elf: $(KERNEL_OBJS) linker.ld $(LINK_FLAGS)
	$(CC) $(LDFLAGS) -T linker.ld $(KERNEL_OBJS) -o $@
	@$(SIZE) $@ | tail -n 1 | awk '{ printf "kernel image: text %d, data %d, bss %d bytes\n", $$1, $$2, $$3 }'

# build/nexus-serving.elf: the same kernel with the Membrane's and httpd's images alone, booting
# the serving manifest (kernel/manifest.c): what serving HTTP takes (make run IMAGE=serving).
SERVING_IMAGE_ELFS := $(B)/user/membrane.elf $(B)/user/httpd.elf
KERNEL_SERVING_OBJS := $(filter-out $(B)/k/kernel/manifest.o $(B)/k/images.o,$(KERNEL_OBJS)) \
                       $(B)/ks/kernel/manifest.o $(B)/ks/images.o

$(B)/ks/kernel/manifest.o: kernel/manifest.c $(KERNEL_FLAGS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -DNEXUS_BOOT_MANIFEST='"serving"' -c $< -o $@

$(eval $(call embedded_images,$(B)/images-serving.S,$(SERVING_IMAGE_ELFS),$(B)/ks/images.o))

$(B)/nexus-serving.elf: $(KERNEL_SERVING_OBJS) linker.ld $(LINK_FLAGS)
	$(CC) $(LDFLAGS) -T linker.ld $(KERNEL_SERVING_OBJS) -o $@

# ---- user images ----
$(B)/u/%.o: %.c $(USER_FLAGS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) $(POSIX_CFLAGS) -c $< -o $@

$(LWIP_STAMP): tools/sources.lock tools/fetch-source.sh | $(BOOTSTRAP)
	tools/fetch-source.sh lwip

$(B)/lwip/%.o: $(LWIP_STAMP) $(LWIP_FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(LWIP_CFLAGS) -c $(LWIP_DIR)/src/$*.c -o $@

$(B)/m/%.o: %.c $(LWIP_STAMP) $(USER_FLAGS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) $(LWIP_INC) $(MEMBRANE_CFLAGS) -c $< -o $@

$(B)/u/%.o: %.S $(USER_FLAGS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(CC) $(ARCH) -c $< -o $@

$(B)/user/%.full.elf: $(RT_OBJS) lib/rt/user.ld $(LINK_FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -T lib/rt/user.ld $(filter %.o,$^) -o $@

$(B)/user/hello.full.elf: $(B)/u/apps/hello/hello.o
$(B)/user/uptime.full.elf: $(B)/u/apps/uptime/uptime.o
$(B)/user/tee.full.elf: $(B)/u/apps/tee/tee.o $(LIBNEXUS_OBJS) # POSIX tee: the console's input, as a program reads it
$(B)/user/membrane.full.elf: $(MEMBRANE_OBJS)
# The Membrane copies every byte an app sends: it links picolibc's speed build, whose memcpy
# moves words (the default size build copies byte by byte, 6 instructions a byte).
MEMBRANE_LIBC := --picolibc-buildtype=release
# The Membrane's link (product and test build): that libc, and the LTO's optimisation.
MEMBRANE_LINK := $(MEMBRANE_LIBC) $(MEMBRANE_LTO) -O2
$(B)/user/membrane.full.elf: LDFLAGS += $(MEMBRANE_LINK)
HTTPD_SRCS := $(addprefix apps/httpd/,httpd.c conn.c routes.c status_page.c document.c snapshot.c writer.c \
                                       http_parse.c)
$(B)/user/httpd.full.elf: $(HTTPD_SRCS:%.c=$(B)/u/%.o) $(B)/u/apps/httpd/sysinfo_nexus.o $(LIBNEXUS_OBJS)
# httpd copies every byte it sends into its link slot (libnexus, with the app's memcpy) and
# renders the status page with memchr and short copies: the speed build too (docs/ion.md: 12.64
# -> 7.63 guest instructions per bulk payload byte).
$(B)/user/httpd.full.elf: LDFLAGS += $(MEMBRANE_LIBC)

# The LWF service (lwf/service/) over the portable core (lwf/), libsodium, the key file reader,
# its port and its apps' links; lwfecho and lwfping are plain AF_LWF socket apps.
LWF_CORE_SRCS    := $(wildcard lwf/*.c)
LWF_SERVICE_OBJS := $(patsubst %.c,$(B)/u/%.o,$(LWF_CORE_SRCS) $(wildcard lwf/service/*.c) signer/request.c) \
                    $(B)/u/lib/port/port.o $(B)/u/lib/link/server.o $(B)/u/lib/link/sockproto.o $(B)/u/lib/link/client.o
LWF_SERVICE_OBJS += $(B)/u/lib/identity/signer_client.o
$(LWF_SERVICE_OBJS): $(SODIUM_VERSION_H)
$(LWF_SERVICE_OBJS): UCFLAGS += $(SODIUM_CFLAGS) -Ilwf
$(B)/user/lwf.full.elf: $(LWF_SERVICE_OBJS) $(SODIUM_OBJS)
# The signer (signer/): the node's key pair, the key file reader, LWF's crypto (lwf/crypto.c for
# the CellID, signatures and the pairwise KDF), and its clients' links.
SIGNER_OBJS := $(patsubst %.c,$(B)/u/%.o,$(wildcard signer/*.c) lib/identity/keyfile.c lwf/crypto.c lwf/replay.c) \
               $(B)/u/lib/link/server.o
$(SIGNER_OBJS): $(SODIUM_VERSION_H)
$(SIGNER_OBJS): UCFLAGS += $(SODIUM_CFLAGS) -Ilwf
$(B)/user/signer.full.elf: $(SIGNER_OBJS) $(SODIUM_OBJS)
$(B)/user/lwfecho.full.elf: $(B)/u/apps/lwfecho/lwfecho.o $(LIBNEXUS_OBJS)
$(B)/user/lwfping.full.elf: $(B)/u/apps/lwfping/lwfping.o $(LIBNEXUS_OBJS)
# The UTCP service (utcp/service/) over the portable core (utcp/) and libsodium, asking the
# signer for its signatures; utcpcat, utcpsink and utcpget (httpd over UTCP) are plain AF_UTCP
# stream socket apps.
UTCP_SERVICE_OBJS := $(patsubst %.c,$(B)/u/%.o,$(wildcard utcp/*.c) $(wildcard utcp/service/*.c) signer/request.c) \
                     $(B)/u/lib/port/port.o $(B)/u/lib/link/server.o $(B)/u/lib/link/sockproto.o $(B)/u/lib/link/client.o \
                     $(B)/u/lib/identity/signer_client.o
$(UTCP_SERVICE_OBJS): $(SODIUM_VERSION_H)
$(UTCP_SERVICE_OBJS): UCFLAGS += $(SODIUM_CFLAGS) -Iutcp -Ilwf
$(B)/user/utcp.full.elf: $(UTCP_SERVICE_OBJS) $(SODIUM_OBJS)
$(B)/user/utcpcat.full.elf: $(B)/u/apps/utcpcat/utcpcat.o $(LIBNEXUS_OBJS)
$(B)/user/utcpsink.full.elf: $(B)/u/apps/utcpsink/utcpsink.o $(LIBNEXUS_OBJS)
$(B)/u/apps/utcpsink/utcpsink.o: UCFLAGS += -Iapps # utcpcat/streamsum.h: what the two apps agree on
$(B)/user/utcpget.full.elf: $(B)/u/apps/utcpget/utcpget.o $(LIBNEXUS_OBJS)

# rinetd 0.73 (issue 16) from Debian's source package (tools/sources.lock), compiled unpatched
# and without its configure step: apps/rinetd/config.h says what configure would find in
# picolibc + libnexus; the flags are its src/Makefile.am's; parse.c comes generated in the
# tarball. Its warnings are its own: no -Werror. Its config is built into the image.
RINETD_VERSION := $(shell awk '$$1 == "rinetd" { print $$2 }' tools/sources.lock)
RINETD_DIR     := $(B)/third_party/rinetd
RINETD_STAMP   := $(RINETD_DIR)/.fetched-$(RINETD_VERSION)
RINETD_OBJS    := $(patsubst %,$(B)/rinetd/%.o,rinetd parse match net)
RINETD_CFLAGS  := $(filter-out -Werror -Wextra -std=gnu11,$(UCFLAGS)) -std=c99 -D_POSIX_C_SOURCE=200809L \
                  -D_XOPEN_SOURCE -D_GNU_SOURCE -DHAVE_CONFIG_H -Iapps/rinetd -Ilib/libnexus/include -Os
FILES_rinetd   := /etc/rinetd.conf=apps/rinetd/rinetd.conf
$(B)/files/rinetd.S: apps/rinetd/rinetd.conf

$(RINETD_STAMP): tools/sources.lock tools/fetch-source.sh | $(BOOTSTRAP)
	tools/fetch-source.sh rinetd

RINETD_FLAGS := $(call flags_file,rinetd,$(RINETD_CFLAGS))
$(B)/rinetd/%.o: $(RINETD_STAMP) apps/rinetd/config.h $(RINETD_FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(RINETD_CFLAGS) -c $(RINETD_DIR)/src/$*.c -o $@

$(B)/user/rinetd.full.elf: $(RINETD_OBJS) $(B)/files/rinetd.o $(LIBNEXUS_OBJS)

# mosquitto 2.0.11 (issue 16), the MQTT broker only, from Debian's source package
# (tools/sources.lock), compiled unpatched and without its own Makefiles: the parts are its
# src/Makefile's OBJS (from src/, or lib/ when shared with the client library), the -D flags the
# ones its config.mk gives the broker with WITH_TLS, WITH_EPOLL, WITH_BRIDGE, WITH_PERSISTENCE,
# WITH_UNIX_SOCKETS, WITH_CONTROL (plugins' topics), WITH_WEBSOCKETS and WITH_SYSTEMD off: poll(),
# no threads, no cJSON, no plugins (a plugin in the config fails at dlopen). Its own config.h
# (in the tarball's top folder) is the config header. Its warnings are its own: no -Werror.
# Its config is built into its image (apps/mosquitto/), including a folder that
# `include_dir` reads.
MOSQ_VERSION   := $(shell awk '$$1 == "mosquitto" { print $$2 }' tools/sources.lock)
MOSQ_DIR       := $(B)/third_party/mosquitto
MOSQ_STAMP     := $(MOSQ_DIR)/.fetched-$(MOSQ_VERSION)
MOSQ_SRC_PARTS := mosquitto bridge bridge_topic conf conf_includedir context control database handle_auth \
                  handle_connack handle_connect handle_disconnect handle_publish handle_subscribe handle_unsubscribe keepalive \
                  logging loop memory_public mux mux_epoll mux_poll net password_mosq property_broker persist_read \
                  persist_read_v234 persist_read_v5 persist_write persist_write_v5 plugin plugin_public \
                  read_handle retain security security_default send_auth send_connack send_suback send_unsuback \
                  service session_expiry signals subs sys_tree topic_tok websockets will_delay xtreport
MOSQ_LIB_PARTS := alias_mosq handle_ping handle_pubackcomp handle_pubrec handle_pubrel \
                  handle_suback handle_unsuback memory_mosq misc_mosq net_mosq net_mosq_ocsp packet_datatypes \
                  packet_mosq property_mosq send_connect send_disconnect send_mosq send_publish send_subscribe \
                  send_unsubscribe strings_mosq time_mosq tls_mosq utf8_mosq util_mosq util_topic will_mosq
# What the broker is built without, said with -U (which changes nothing for the compiler: none is
# defined) so that tests/frontdoor/builddeps.py, which follows #ifdef only for switches a
# command names, knows these branches are not compiled: the platforms it is not, the features off.
MOSQ_OFF       := WIN32 __linux__ __APPLE__ __FreeBSD__ __QNX__ WITH_TLS WITH_EPOLL WITH_BRIDGE \
                  WITH_PERSISTENCE WITH_UNIX_SOCKETS WITH_CONTROL WITH_WEBSOCKETS WITH_SYSTEMD \
                  WITH_THREADING WITH_SRV WITH_ADNS WITH_CJSON WITH_WRAP WITH_XTREPORT
MOSQ_OBJS      := $(MOSQ_SRC_PARTS:%=$(B)/mosquitto/src/%.o) $(MOSQ_LIB_PARTS:%=$(B)/mosquitto/lib/%.o)
# -Os for the ported apps' own code (not libnexus's): off the HTTP path, 16 KB smaller together,
# and no slower measured side by side (mosquitto messages/s at QoS 0 and 1, rinetd's forward MB/s).
MOSQ_CFLAGS    := $(filter-out -Werror -Wextra,$(UCFLAGS)) -Ilib/libnexus/include -I$(MOSQ_DIR) \
                  -I$(MOSQ_DIR)/src -I$(MOSQ_DIR)/lib -I$(MOSQ_DIR)/include -I$(MOSQ_DIR)/deps \
                  -DVERSION=\"$(firstword $(subst -, ,$(MOSQ_VERSION)))\" -DWITH_BROKER -DWITH_SYS_TREE \
                  -DWITH_MEMORY_TRACKING $(MOSQ_OFF:%=-U%) -Os
FILES_mosquitto := /etc/mosquitto/mosquitto.conf=apps/mosquitto/mosquitto.conf \
                   /etc/mosquitto/conf.d/nexus.conf=apps/mosquitto/conf.d/nexus.conf \
                   /etc/mosquitto/with-plugin.conf=apps/mosquitto/with-plugin.conf
$(B)/files/mosquitto.S: apps/mosquitto/mosquitto.conf apps/mosquitto/conf.d/nexus.conf apps/mosquitto/with-plugin.conf

$(MOSQ_STAMP): tools/sources.lock tools/fetch-source.sh | $(BOOTSTRAP)
	tools/fetch-source.sh mosquitto

MOSQ_FLAGS := $(call flags_file,mosquitto,$(MOSQ_CFLAGS))
$(B)/mosquitto/%.o: $(MOSQ_STAMP) $(MOSQ_FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(MOSQ_CFLAGS) -c $(MOSQ_DIR)/$*.c -o $@

# Its random bytes (broker-made client ids) from getrandom, the kernel's entropy, rather than
# random(): what it does on glibc, where it includes <sys/random.h> under __linux__ && __GLIBC__.
$(B)/mosquitto/lib/util_mosq.o: MOSQ_CFLAGS += -DHAVE_GETRANDOM -include sys/random.h

$(B)/user/mosquitto.full.elf: $(MOSQ_OBJS) $(B)/files/mosquitto.o $(LIBNEXUS_OBJS)

# curl 7.88.1 (issue 16), HTTP only, from Debian's source package (tools/sources.lock), unpatched.
# It is embedded in the test kernel only: its configure alone takes minutes on these machines,
# and `make run` must boot a fresh clone in seconds, not wait on a program it does not run.
# its own configure and Makefiles, run in build/third_party/curl/nexus-build (never elsewhere in
# build/: the Makefile includes every *.d under build/, and curl's docs have .d files). CC names
# picolibc's specs and the include folders itself, because configure turns -I in CPPFLAGS into
# -isystem and runs its prototype checks without CFLAGS; the runtime and libnexus go in as one
# archive, as libtool takes no plain objects in LIBS, with _start named so the archive's crt0 is
# linked. Its warnings are its own. Its objects depend on libnexus's headers as a whole: a change
# there cleans its build (its own dependency tracking is off). Its make runs as a plain command,
# not $(MAKE), so that `make -n` (tests/frontdoor/builddeps.py) never builds curl.
CURL_VERSION   := $(shell awk '$$1 == "curl" { print $$2 }' tools/sources.lock)
CURL_DIR       := $(B)/third_party/curl
CURL_STAMP     := $(CURL_DIR)/.fetched-$(CURL_VERSION)
CURL_BUILD     := $(CURL_DIR)/nexus-build
RUNTIME_ARCHIVE := $(B)/rt/libnexus-runtime.a
CURL_CC        := $(CC) $(PICO) $(LINKARCH) -I$(CURDIR)/lib/libnexus/include -I$(CURDIR)/lib/rt -I$(CURDIR)/include
CURL_CONFIGURE := --host=riscv64-unknown-elf --disable-shared --enable-static --disable-dependency-tracking \
                  --without-ssl --without-zlib --without-brotli --without-zstd --without-libpsl --without-libidn2 \
                  --without-nghttp2 --without-librtmp --without-ca-bundle --without-ca-path --enable-ipv6 \
                  --disable-threaded-resolver --disable-pthreads --disable-ftp --disable-file --disable-ldap \
                  --disable-ldaps --disable-rtsp --disable-dict --disable-telnet --disable-tftp --disable-pop3 \
                  --disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt --disable-manual \
                  --disable-unix-sockets --disable-socketpair --disable-ntlm --disable-ntlm-wb --disable-tls-srp \
                  --disable-doh --disable-alt-svc --disable-hsts --disable-websockets --disable-netrc \
                  --disable-libcurl-option --disable-rt
CURL_LDFLAGS   := -nostartfiles -static -Wl,--gc-sections -Wl,--no-warn-rwx-segments -T $(CURDIR)/lib/rt/user.ld \
                  -Wl,--undefined=_start

$(RUNTIME_ARCHIVE): $(RT_OBJS) $(LIBNEXUS_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(CROSS)ar rcs $@ $^

$(CURL_STAMP): tools/sources.lock tools/fetch-source.sh | $(BOOTSTRAP)
	tools/fetch-source.sh curl

LIBNEXUS_HEADERS := $(wildcard lib/libnexus/include/*.h lib/libnexus/include/*/*.h lib/rt/nexus.h include/nexus/*.h)

$(CURL_BUILD)/configured: $(CURL_STAMP) Makefile | $(RUNTIME_ARCHIVE)
	@mkdir -p $(CURL_BUILD)
	cd $(CURL_BUILD) && ../configure $(CURL_CONFIGURE) CC="$(CURL_CC)" CFLAGS="-O2" LDFLAGS="$(CURL_LDFLAGS)" \
	    LIBS="$(CURDIR)/$(RUNTIME_ARCHIVE)" > configure.log 2>&1 || { tail -20 configure.log; exit 1; }
	touch $@

$(CURL_BUILD)/headers-seen: $(CURL_BUILD)/configured $(LIBNEXUS_HEADERS)
	env -u MAKEFLAGS -u MAKELEVEL make -C $(CURL_BUILD) clean > /dev/null
	touch $@

# curl's own make decides what to recompile; the program is linked again whenever the runtime changes.
$(B)/user/curl.full.elf: $(CURL_BUILD)/headers-seen $(RUNTIME_ARCHIVE)
	rm -f $(CURL_BUILD)/src/curl
	env -u MAKEFLAGS -u MAKELEVEL make -C $(CURL_BUILD) -j2 > $(CURL_BUILD)/make.log 2>&1 || \
	    { tail -20 $(CURL_BUILD)/make.log; exit 1; }
	cp $(CURL_BUILD)/src/curl $@

$(B)/user/%.elf: $(B)/user/%.full.elf
	$(OBJCOPY) --strip-all $< $@

$(SODIUM_STAMP): tools/sources.lock tools/fetch-source.sh | $(BOOTSTRAP)
	tools/fetch-source.sh libsodium

# What configure would write into version.h: 1.0.18's library version is 10.3 (configure.ac).
$(SODIUM_VERSION_H): $(SODIUM_STAMP)
	@mkdir -p $(dir $@)
	sed -e "s/@VERSION@/$$(awk -F'[][]' '/^AC_INIT/ { print $$4 }' $(SODIUM_DIR)/configure.ac)/" \
	    -e "s/@SODIUM_LIBRARY_VERSION_MAJOR@/$$(sed -n 's/^SODIUM_LIBRARY_VERSION_MAJOR=//p' $(SODIUM_DIR)/configure.ac)/" \
	    -e "s/@SODIUM_LIBRARY_VERSION_MINOR@/$$(sed -n 's/^SODIUM_LIBRARY_VERSION_MINOR=//p' $(SODIUM_DIR)/configure.ac)/" \
	    -e "s/@SODIUM_LIBRARY_MINIMAL_DEF@//" $(SODIUM_SRC)/include/sodium/version.h.in > $@
	@# version.h includes "export.h" from its own folder: <sodium.h> needs it beside the generated one.
	ln -sfn $(CURDIR)/$(SODIUM_SRC)/include/sodium/export.h $(dir $@)export.h

SODIUM_FLAGS := $(call flags_file,sodium,$(SODIUM_BUILD_CFLAGS))
$(B)/sodium/%.o: $(SODIUM_STAMP) $(SODIUM_VERSION_H) $(SODIUM_FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(SODIUM_BUILD_CFLAGS) -c $(SODIUM_SRC)/$*.c -o $@

# The glue and the programs that call libsodium see its headers.
$(B)/u/lib/crypto/sodium_nexus.o $(B)/u/tests/qemu/cryptocheck.o: $(SODIUM_VERSION_H)
$(B)/u/lib/crypto/sodium_nexus.o $(B)/u/tests/qemu/cryptocheck.o: UCFLAGS += $(SODIUM_CFLAGS)

# A deliberately broken image: the loader must refuse it without leaking pages.
$(B)/user-test/probe-truncated.elf: $(B)/user-test/probe.elf
	head -c 300 $< > $@

# Read-only files built into an app's image (lib/libnexus/files.c): FILES_<image> lists
# PATH=SOURCE pairs, PATH the absolute name the app opens. The image links $(B)/files/<image>.o.
POSIXCHECK_SRCS := $(wildcard apps/posixcheck/*.c) # built for Nexus and, against glibc, for the host
FILES_posixcheck := /etc/posixcheck.conf=apps/posixcheck/posixcheck.conf
$(B)/files/posixcheck.S: apps/posixcheck/posixcheck.conf
$(B)/files/%.S: Makefile tools/gen-files.sh
	@mkdir -p $(dir $@)
	tools/gen-files.sh $@ $(FILES_$*)

$(B)/files/%.o: $(B)/files/%.S | $(BOOTSTRAP)
	$(CC) $(ARCH) -c $< -o $@

# ---- test build ----
# build/nexus-test.elf: the same kernel with what only tests need: the in-QEMU test runners
# (kernel/selftest.c, bootargs selftest and nettest), the test manifests, the NetSwitch's
# instructions-per-RX-frame histogram (make bench), a Membrane that can be made to fault on
# demand (membrane/fault_inject.c), and the test programs. The tests and make bench boot it;
# users boot build/nexus.elf, which has none of it. Sources that differ between the two are
# compiled again with NEXUS_TEST_BUILD.
TEST_IMAGE_ELFS := $(filter-out $(B)/user/membrane.elf $(B)/user/lwf.elf,$(IMAGE_ELFS)) $(TEST_IMAGES:%=$(B)/user-test/%.elf) \
                   $(B)/user-test/capcheck.elf $(B)/user-test/membrane.elf $(B)/user-test/probe-truncated.elf \
                   $(B)/user-test/lwf.elf $(B)/user/curl.elf
KERNEL_TEST_REBUILT_SRCS := kernel/main.c kernel/manifest.c kernel/fiber.c kernel/trap.c kernel/syscall.c netswitch/rx_demux.c netswitch/counters.c
KERNEL_TEST_OBJS := $(filter-out $(KERNEL_TEST_REBUILT_SRCS:%.c=$(B)/k/%.o) $(B)/k/images.o,$(KERNEL_OBJS)) \
                    $(patsubst %.c,$(B)/kt/%.o,$(KERNEL_TEST_REBUILT_SRCS) $(KERNEL_TEST_ONLY_SRCS)) \
                    $(B)/kt/images.o
MEMBRANE_TEST_OBJS := $(B)/mt/membrane/membrane.o $(B)/mt/membrane/fault_inject.o \
                      $(filter-out $(B)/m/membrane/membrane.o,$(MEMBRANE_OBJS))

$(B)/kt/%.o: %.c $(KERNEL_FLAGS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -DNEXUS_TEST_BUILD -c $< -o $@
# The test-only instruments and runners stay functions of their own, out of the kernel's LTO:
# the front door finds them by name to tell the test kernel from the product
# (tests/frontdoor/product.py), and an instrument inlined into the path it measures would no
# longer cost what its calibration took off (docs/testing.md).
KCFLAGS_NO_LTO := $(filter-out $(KERNEL_LTO),$(KCFLAGS))
KERNEL_TEST_ONLY_FLAGS := $(call flags_file,kernel_test_only,$(KCFLAGS_NO_LTO))
$(KERNEL_TEST_ONLY_SRCS:%.c=$(B)/kt/%.o): KCFLAGS := $(KCFLAGS_NO_LTO)
$(KERNEL_TEST_ONLY_SRCS:%.c=$(B)/kt/%.o): $(KERNEL_TEST_ONLY_FLAGS)

$(B)/mt/%.o: %.c $(LWIP_STAMP) $(USER_FLAGS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) $(LWIP_INC) $(MEMBRANE_CFLAGS) -DNEXUS_FAULT_INJECTION -DNEXUS_TEST_BUILD -c $< -o $@

# The LWF service that faults on demand (lib/fault/fault_inject.c): its receive path is
# compiled again with NEXUS_FAULT_INJECTION, the rest is the product's.
LWF_TEST_OBJS := $(B)/lt/lwf/service/wire.o $(B)/u/lib/fault/fault_inject.o \
                 $(filter-out $(B)/u/lwf/service/wire.o,$(LWF_SERVICE_OBJS))
$(B)/lt/%.o: %.c $(SODIUM_VERSION_H) $(USER_FLAGS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) $(POSIX_CFLAGS) $(SODIUM_CFLAGS) -Ilwf -DNEXUS_FAULT_INJECTION -c $< -o $@

$(B)/user-test/%.full.elf: $(RT_OBJS) lib/rt/user.ld $(LINK_FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -T lib/rt/user.ld $(filter %.o,$^) -o $@

$(B)/user-test/membrane.full.elf: $(MEMBRANE_TEST_OBJS)
$(B)/user-test/membrane.full.elf: LDFLAGS += $(MEMBRANE_LINK)
$(B)/user-test/lwf.full.elf: $(LWF_TEST_OBJS) $(SODIUM_OBJS)
# The UTCP service that faults on demand (lib/fault/fault_inject.c), in place of the product's.
UTCP_TEST_OBJS := $(B)/ut/utcp/service/sockets.o $(B)/u/lib/fault/fault_inject.o \
                  $(filter-out $(B)/u/utcp/service/sockets.o,$(UTCP_SERVICE_OBJS))
TEST_IMAGE_ELFS := $(filter-out $(B)/user/utcp.elf,$(TEST_IMAGE_ELFS)) $(B)/user-test/utcp.elf
$(B)/ut/%.o: %.c $(SODIUM_VERSION_H) $(USER_FLAGS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) $(POSIX_CFLAGS) $(SODIUM_CFLAGS) -Iutcp -Ilwf -DNEXUS_FAULT_INJECTION -c $< -o $@
$(B)/user-test/utcp.full.elf: $(UTCP_TEST_OBJS) $(SODIUM_OBJS)
$(B)/user-test/lwfsend.full.elf: $(B)/u/tests/qemu/lwfsend.o $(LIBNEXUS_OBJS)
$(B)/user-test/capcheck.full.elf: $(B)/u/tests/qemu/capcheck.o $(LIBNEXUS_OBJS)
$(B)/user-test/probe.full.elf: $(B)/u/tests/qemu/probe.o $(B)/u/ion/unix_lane.o
$(B)/user-test/unixecho.full.elf: $(B)/u/tests/qemu/unixecho.o $(LIBNEXUS_OBJS)
$(B)/user-test/netsvc.full.elf: $(B)/u/tests/qemu/netsvc.o $(B)/u/lib/port/port.o
$(B)/user-test/cryptocheck.full.elf: $(B)/u/tests/qemu/cryptocheck.o $(SODIUM_OBJS) $(LIBNEXUS_OBJS)
$(B)/user-test/posixcheck.full.elf: $(POSIXCHECK_SRCS:%.c=$(B)/u/%.o) $(B)/files/posixcheck.o $(LIBNEXUS_OBJS)

$(B)/user-test/%.elf: $(B)/user-test/%.full.elf
	$(OBJCOPY) --strip-all $< $@


$(eval $(call embedded_images,$(B)/images-test.S,$(TEST_IMAGE_ELFS),$(B)/kt/images.o))

$(B)/nexus-test.elf: $(KERNEL_TEST_OBJS) linker.ld $(LINK_FLAGS)
	$(CC) $(LDFLAGS) -T linker.ld $(KERNEL_TEST_OBJS) -o $@

# ---- run ----
# QEMU runs with tools/hostfwd_backlog.c preloaded: its user network's port forwards listen with
# a backlog of 1, and a third client connecting at once waited a second or more for Linux to
# let its SYN in again (docs/testing.md, "Many clients at once"). Built by `all`.
$(QEMU_PRELOAD): tools/hostfwd_backlog.c | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=gnu11 -O2 -Wall -Wextra -Werror -shared -fPIC $< -o $@ -ldl
# The machine; each use adds its own network backend for net0. Tests replace it with theirs.
# IMAGE=serving: make run and make debug boot build/nexus-serving.elf, the kernel with the
# Membrane and httpd alone, instead of the full image.
IMAGES_BOOTABLE := serving
RUN_KERNEL   := $(B)/nexus$(if $(IMAGE),-$(IMAGE)).elf
$(if $(filter-out $(IMAGES_BOOTABLE),$(IMAGE)),$(error IMAGE=$(IMAGE): no such image; IMAGE=serving, or none for the full image))
QEMU_MACHINE := env LD_PRELOAD=$(abspath $(QEMU_PRELOAD)) $(QEMU) -machine virt -cpu rv64 -smp 1 -m $(MEM) -nographic -bios $(OPENSBI) \
                -kernel $(RUN_KERNEL) -global virtio-mmio.force-legacy=false \
                -device virtio-net-device,netdev=net0 -device virtio-rng-device
QEMU_BASE    := $(QEMU_MACHINE) -netdev user,id=net0,restrict=on
# make run: QEMU's user network, the guest's port 80 forwarded to the host's loopback PORT.
# PCAP=file.pcap also records every frame of the NIC (QEMU's filter-dump).
RUN_NETDEV   := -netdev user,id=net0,hostfwd=tcp:127.0.0.1:$(PORT)-:80 \
                $(if $(PCAP),-object filter-dump$(comma)id=pcap0$(comma)netdev=net0$(comma)file=$(PCAP))

# IDENTITY=FILE: the node's key file (make keygen) reaches the guest as QEMU's initrd, which the
# kernel hands, uninterpreted, to the fiber pledged "keyblob" (docs/identity.md). Expanded in the
# recipe only, so a missing file stops make before QEMU starts, and only for run and debug.
RUN_IDENTITY = $(if $(IDENTITY),$(if $(wildcard $(IDENTITY)),-initrd $(IDENTITY),$(error IDENTITY=$(IDENTITY): \
               no such key file; make keygen KEY=$(IDENTITY) creates one)))

run: $(RUN_KERNEL) $(QEMU_PRELOAD)
	@echo "Booting Nexus under QEMU (quit: Ctrl-A X; console commands: help)."
	@echo "Once the console shows 'httpd: listening', from another terminal:"
	@echo "    curl 127.0.0.1:$(PORT)/"
	$(QEMU_MACHINE) $(RUN_NETDEV) $(RUN_IDENTITY) -append "$(BOOTARGS)"

debug: $(RUN_KERNEL) $(QEMU_PRELOAD)
	@echo "QEMU waits for gdb on 127.0.0.1:$(GDBPORT), paused before the first instruction. In another terminal:"
	@echo "    gdb-multiarch $(RUN_KERNEL) -ex 'target remote 127.0.0.1:$(GDBPORT)'"
	$(QEMU_MACHINE) $(RUN_NETDEV) $(RUN_IDENTITY) -append "$(BOOTARGS)" -gdb tcp:127.0.0.1:$(GDBPORT) -S

# make mesh: NODES guests on one LWF wire, each with its own key (build/mesh/node<i>.key), HTTP
# port and console: node 0 here, the others on unix sockets (tools/mesh.py prints which is where).
NODES ?= 3
.PHONY: mesh
mesh: $(B)/nexus.elf $(B)/nexus-keygen
	python3 -m tools.mesh --nodes $(NODES) --qemu "$(QEMU_BASE)" --keygen $(B)/nexus-keygen --dir $(B)/mesh

# ---- identity ----
# nexus-keygen (tools/nexus-keygen.c, Debian's libsodium-dev) writes KEY and prints its CellID; it
# never overwrites a key file. `build/nexus-keygen --show FILE` prints an existing one's.
KEY ?= node.key
.PHONY: keygen
keygen: $(B)/nexus-keygen
	$(B)/nexus-keygen $(KEY)

$(B)/nexus-keygen: tools/nexus-keygen.c lib/identity/keyfile.c | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror $(HOST_SAN) -Ilib -MMD -MP -MF $@.d -MT $@ \
	    tools/nexus-keygen.c lib/identity/keyfile.c -o $@ -lsodium

# lwf-node (tools/lwf-node/): a Linux host on the LWF wire through the same core (lwf/) and the
# key file reader, with Debian's libsodium-dev; it joins the wire as a -netdev dgram endpoint.
# It speaks UTCP there too, through the UTCP core (utcp/) and the stream check utcpcat and
# utcpsink agree on (apps/utcpcat/streamsum.h).
LWF_NODE_SRCS := $(wildcard tools/lwf-node/*.c) $(LWF_CORE_SRCS) $(wildcard utcp/*.c) lib/identity/keyfile.c
$(B)/lwf-node: $(LWF_NODE_SRCS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror $(HOST_SAN) -Ilib -Ilwf -Iutcp -Iapps -MMD -MP -MF $@.d -MT $@ \
	    $(LWF_NODE_SRCS) -o $@ -lsodium

# ---- tests ----
# Host objects (gcc, ASan/UBSan) and fuzz objects (clang, libFuzzer) are compiled one source at a
# time with compiler-generated dependency files, like the kernel's, so touching any header they
# include rebuilds exactly them. A program's extra sources are HOST_UNIT_SRC_<name>.
HOST_OBJ    := $(B)/ho
FUZZ_OBJ    := $(B)/fo
HOST_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -g -O1 -MMD -MP -Ikernel -Inetswitch -Iion -Iinclude -Ilib -Iapps/httpd

# libnexus's own sources see its POSIX headers (the socket families Nexus adds), as on Nexus.
$(HOST_OBJ)/lib/libnexus/%.o $(HOST_OBJ)/tests/host/test_family.o $(HOST_OBJ)/tests/host/test_unix.o: HOST_CFLAGS += -Ilib/libnexus/include
$(HOST_OBJ)/lib/libnexus/unix_named.o $(HOST_OBJ)/tests/host/unix_no_kernel.o: HOST_CFLAGS += -Ilib/rt
$(HOST_OBJ)/tests/host/test_rx_frame_policy.o $(HOST_OBJ)/tests/host/test_ack_coalesce.o: HOST_CFLAGS += -Ilwip
$(HOST_OBJ)/tests/fuzz/fuzz_ack_coalesce.o: HOST_CFLAGS += -Ilwip
$(HOST_OBJ)/tests/host/test_ack_coalesce.o: HOST_CFLAGS += -Itests/fuzz
$(FUZZ_OBJ)/tests/fuzz/fuzz_ack_coalesce.o: FUZZ_CFLAGS += -Ilwip
# The manifests' host test checks the test build's manifests too.
$(HOST_OBJ)/kernel/manifest.o: HOST_CFLAGS += -DNEXUS_TEST_BUILD

HOST_FLAGS := $(call flags_file,host,$(HOST_CC) $(HOST_CFLAGS))
$(HOST_OBJ)/%.o: %.c $(HOST_FLAGS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

# The objects of program NAME's extra sources, under the object folder DIR: $(call unit_objs,DIR,NAME)
unit_objs = $(addprefix $(1)/,$(HOST_UNIT_SRC_$(2):.c=.o))

FUZZ_FLAGS := $(call flags_file,fuzz,$(FUZZ_CFLAGS))
$(FUZZ_OBJ)/%.o: %.c $(FUZZ_FLAGS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

# fuzz_httpdoc checks the contract tests/host/test_httpdoc.c checks, with the same helpers.
$(HOST_OBJ)/tests/fuzz/fuzz_httpdoc.o: HOST_CFLAGS += -Itests/host
$(FUZZ_OBJ)/tests/fuzz/fuzz_httpdoc.o: FUZZ_CFLAGS += -Itests/host
# The virtqueue's test and fuzz target share the device's side (tests/host/virtq_device.h).
$(HOST_OBJ)/tests/host/test_virtqueue.o $(HOST_OBJ)/tests/fuzz/fuzz_virtqueue.o: HOST_CFLAGS += -Ihal/virtio -Itests/host
$(FUZZ_OBJ)/tests/fuzz/fuzz_virtqueue.o: FUZZ_CFLAGS += -Ihal/virtio -Itests/host
$(HOST_OBJ)/tests/host/test_virtio_rng.o: HOST_CFLAGS += -Ihal/virtio -Itests/host
$(HOST_OBJ)/hal/virtio/virtio_rng.o: HOST_CFLAGS := -Itests/host/stub $(HOST_CFLAGS)

# kernel/fdt.c and libfdt natively, libfdt with the same sanitizers but without -Werror.
$(HOST_OBJ)/kernel/fdt.o $(FUZZ_OBJ)/kernel/fdt.o: $(LIBFDT_STAMP)
$(HOST_OBJ)/kernel/fdt.o: HOST_CFLAGS := -I$(LIBFDT_DIR) $(HOST_CFLAGS)
$(FUZZ_OBJ)/kernel/fdt.o: FUZZ_CFLAGS := -I$(LIBFDT_DIR) $(FUZZ_CFLAGS)

# lwIP natively (fuzz_lwip_input), with the Membrane's lwipopts.h: its sources without -Werror (its
# warnings are its own); the port's files and the fake kernel end of a port see lwIP's headers
# and the user runtime's.
LWIP_NATIVE_INC   := -Ilwip -I$(LWIP_DIR)/src/include -Ilib/rt
LWIP_NATIVE_USERS := lwip/netif_ion lwip/chksum lwip/tx_buffers lwip/tcp_send lwip/send_area lwip/tcp_syn_guard lwip/tcp_syn_cookie lib/port/port tests/fuzz/fake_port tests/fuzz/fuzz_lwip_input \
                     tests/host/test_syn_cookie tests/host/test_tcp_send tests/host/test_chksum membrane/tcp_timewait
$(LWIP_NATIVE_USERS:%=$(HOST_OBJ)/%.o): HOST_CFLAGS += $(LWIP_NATIVE_INC)
$(LWIP_NATIVE_USERS:%=$(FUZZ_OBJ)/%.o): FUZZ_CFLAGS += $(LWIP_NATIVE_INC)
$(LWIP_NATIVE_USERS:%=$(HOST_OBJ)/%.o) $(LWIP_NATIVE_USERS:%=$(FUZZ_OBJ)/%.o): $(LWIP_STAMP)

LIBFDT_NATIVE := -g -O1 -fwrapv -MMD -MP -I$(LIBFDT_DIR) -fno-sanitize=signed-integer-overflow
# lwIP and libfdt compiled natively, for the host tests and for the fuzzers.
NATIVE_FLAGS := $(call flags_file,native,$(HOST_CC) $(HOST_SAN) $(LWIP_NATIVE_INC) $(LIBFDT_NATIVE))

$(HOST_OBJ)/$(LWIP_DIR)/%.o: $(LWIP_STAMP) $(NATIVE_FLAGS)
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=gnu11 $(HOST_SAN) -g -O1 -MMD -MP $(LWIP_NATIVE_INC) -c $(LWIP_DIR)/$*.c -o $@

$(FUZZ_OBJ)/$(LWIP_DIR)/%.o: $(LWIP_STAMP) $(NATIVE_FLAGS)
	@mkdir -p $(dir $@)
	clang -fsanitize=fuzzer-no-link,address,undefined -g -O1 -MMD -MP $(LWIP_NATIVE_INC) -c $(LWIP_DIR)/$*.c -o $@

$(HOST_OBJ)/$(LIBFDT_DIR)/%.o: $(LIBFDT_STAMP) $(NATIVE_FLAGS)
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=gnu11 $(HOST_SAN) $(LIBFDT_NATIVE) -c $(LIBFDT_DIR)/$*.c -o $@

$(FUZZ_OBJ)/$(LIBFDT_DIR)/%.o: $(LIBFDT_STAMP) $(NATIVE_FLAGS)
	@mkdir -p $(dir $@)
	clang -fsanitize=fuzzer-no-link,address,undefined $(LIBFDT_NATIVE) -c $(LIBFDT_DIR)/$*.c -o $@

.SECONDEXPANSION:
$(B)/host/test_%: $(HOST_OBJ)/tests/host/test_%.o $$(call unit_objs,$(HOST_OBJ),$$*)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_SAN) $^ -o $@

$(B)/host/replay_%: $(HOST_OBJ)/tests/fuzz/fuzz_%.o $(HOST_OBJ)/tests/fuzz/replay.o \
                    $$(call unit_objs,$(HOST_OBJ),$$*)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_SAN) $^ -o $@

$(B)/fuzz/fuzz_%: $(FUZZ_OBJ)/tests/fuzz/fuzz_%.o $$(call unit_objs,$(FUZZ_OBJ),$$*)
	@mkdir -p $(dir $@)
	clang -fsanitize=fuzzer,address,undefined $^ -o $@

# posixcheck built against glibc's own headers: proves the program is plain POSIX and its
# checks are right, before they run on Nexus.
$(B)/host/posixcheck_host: $(POSIXCHECK_SRCS) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror $(HOST_SAN) -MMD -MP -MF $@.d -MT $@ $(filter %.c,$^) -o $@

# The ring under ThreadSanitizer with two real threads.
$(B)/host/stress_ion_ring: tests/host/stress_ion_ring.c | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=gnu11 -O2 -g -fsanitize=thread -Iion -MMD -MP -MF $@.d -MT $@ $< -o $@ -lpthread

# httpd itself on the host (glibc sockets, a fixed /Bus tree): its HTTP checks run against it
# under ASan/UBSan before they run against Nexus.
HTTPD_HOST_SRCS := $(HTTPD_SRCS) tests/host/httpd_host_sysinfo.c
$(B)/host/httpd_host: $(HTTPD_HOST_SRCS:%.c=$(HOST_OBJ)/%.o)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_SAN) $^ -o $@

# The LWF core (lwf/) natively: its tests and fuzz target share a fixture (the spec's vectors,
# three nodes) and link Debian's libsodium-dev.
HOST_UNIT_SRC_lwf_vectors    := $(LWF_CORE_SRCS) tests/host/lwf_fixture.c tests/host/vector_file.c
HOST_UNIT_SRC_lwf_frame      := $(LWF_CORE_SRCS) tests/host/lwf_fixture.c tests/host/vector_file.c
HOST_UNIT_SRC_lwf_reassembly := $(LWF_CORE_SRCS) tests/host/lwf_fixture.c tests/host/vector_file.c
$(HOST_OBJ)/lwf/%.o $(HOST_OBJ)/tests/host/lwf_%.o $(HOST_OBJ)/tests/host/test_lwf_%.o \
$(HOST_OBJ)/tests/fuzz/fuzz_lwf_%.o: HOST_CFLAGS += -Ilwf -Itests/host
$(FUZZ_OBJ)/lwf/%.o $(FUZZ_OBJ)/tests/host/lwf_%.o $(FUZZ_OBJ)/tests/fuzz/fuzz_lwf_%.o: FUZZ_CFLAGS += -Ilwf -Itests/host

$(HOST_OBJ)/signer/request.o $(HOST_OBJ)/tests/host/test_signproto.o $(HOST_OBJ)/tests/fuzz/fuzz_signproto.o: \
    HOST_CFLAGS += -Ilwf
$(FUZZ_OBJ)/signer/request.o $(FUZZ_OBJ)/tests/fuzz/fuzz_signproto.o: FUZZ_CFLAGS += -Ilwf
$(B)/host/test_lwf_%: $(HOST_OBJ)/tests/host/test_lwf_%.o $$(call unit_objs,$(HOST_OBJ),lwf_$$*)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_SAN) $^ -o $@ -lsodium

$(B)/host/replay_lwf_%: $(HOST_OBJ)/tests/fuzz/fuzz_lwf_%.o $(HOST_OBJ)/tests/fuzz/replay.o \
                        $$(call unit_objs,$(HOST_OBJ),lwf_$$*)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_SAN) $^ -o $@ -lsodium

$(B)/fuzz/fuzz_lwf_%: $(FUZZ_OBJ)/tests/fuzz/fuzz_lwf_%.o $$(call unit_objs,$(FUZZ_OBJ),lwf_$$*)
	@mkdir -p $(dir $@)
	clang -fsanitize=fuzzer,address,undefined $^ -o $@ -lsodium

# The UTCP core (utcp/) natively: its tests, simulation and fuzz target share a fixture (nodes
# from the spec's seeds over in-memory outboxes) and link Debian's libsodium-dev.
UTCP_CORE_SRCS := $(wildcard utcp/*.c)
UTCP_TESTS     := utcp_vectors utcp_frame utcp_sim utcp_peer_macs
HOST_TESTS     += $(UTCP_TESTS)
FUZZ_TARGETS   += utcp_frame
$(foreach t,$(UTCP_TESTS),$(eval HOST_UNIT_SRC_$(t) := $(UTCP_CORE_SRCS) tests/host/utcp_fixture.c tests/host/vector_file.c))
$(HOST_OBJ)/utcp/%.o $(HOST_OBJ)/tests/host/utcp_%.o $(HOST_OBJ)/tests/host/test_utcp_%.o \
$(HOST_OBJ)/tests/fuzz/fuzz_utcp_%.o: HOST_CFLAGS += -Iutcp -Itests/host
$(FUZZ_OBJ)/utcp/%.o $(FUZZ_OBJ)/tests/host/utcp_%.o $(FUZZ_OBJ)/tests/host/vector_file.o \
$(FUZZ_OBJ)/tests/fuzz/fuzz_utcp_%.o: FUZZ_CFLAGS += -Iutcp -Itests/host

$(B)/host/test_utcp_%: $(HOST_OBJ)/tests/host/test_utcp_%.o $$(call unit_objs,$(HOST_OBJ),utcp_$$*)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_SAN) $^ -o $@ -lsodium

$(B)/host/replay_utcp_%: $(HOST_OBJ)/tests/fuzz/fuzz_utcp_%.o $(HOST_OBJ)/tests/fuzz/replay.o \
                         $$(call unit_objs,$(HOST_OBJ),utcp_$$*)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_SAN) $^ -o $@ -lsodium

$(B)/fuzz/fuzz_utcp_%: $(FUZZ_OBJ)/tests/fuzz/fuzz_utcp_%.o $$(call unit_objs,$(FUZZ_OBJ),utcp_$$*)
	@mkdir -p $(dir $@)
	clang -fsanitize=fuzzer,address,undefined $^ -o $@ -lsodium

# make bench's copy of the simulation: the same sources as test_utcp_sim, optimised and without
# the sanitizers, so that its frames/s measures the core and the switch rather than ASan.
UTCP_SIM_BENCH_SRCS := $(HOST_UNIT_SRC_utcp_sim) tests/host/test_utcp_sim.c
# One gcc run over several sources writes no complete dependency file: every header it may read.
$(B)/bench/utcp_sim: $(UTCP_SIM_BENCH_SRCS) $(wildcard utcp/*.h tests/host/*.h) | $(BOOTSTRAP)
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=gnu11 -O2 -Wall -Wextra -Werror -Iutcp -Itests/host $(filter %.c,$^) -o $@ -lsodium

host-tests: $(HOST_TESTS:%=$(B)/host/test_%) $(FUZZ_TARGETS:%=$(B)/host/replay_%) $(B)/host/stress_ion_ring \
            $(B)/host/posixcheck_host $(B)/host/httpd_host
host-tests: $(B)/nexus-keygen $(B)/lwf-node

# TESTS=REGEX runs only the groups whose name matches (a developer's shortcut; CI runs them all).
test: all $(B)/nexus-test.elf host-tests
	python3 tests/run.py --build $(B) --qemu "$(QEMU_BASE)" $(if $(TESTS),--only '$(TESTS)')

# libFuzzer, FUZZ_SECONDS per target; new finds go to build/fuzz/<target>/, not the corpus.
FUZZ_SECONDS ?= 60
fuzzers: $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)
fuzz: fuzzers
	@for t in $(FUZZ_TARGETS); do mkdir -p $(B)/fuzz/$$t; \
	  $(B)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) $(B)/fuzz/$$t tests/fuzz/corpus/$$t || exit 1; done

bench: all $(B)/nexus-test.elf $(B)/nexus-serving.elf $(B)/bench/utcp_sim
	python3 -m tools.bench --build $(B) --qemu "$(QEMU_BASE)"

# The long hostile-wire run: N frames shared among every class of tools/hostile.py, HTTP checked
# throughout (tests/e2e/run_qemu_hostile.py; scapy is Debian's, hence /usr/bin/python3).
N ?= 1000000
.PHONY: hostile
hostile: all
	/usr/bin/python3 -m tests.e2e.run_qemu_hostile --qemu "$(QEMU_BASE)" --frames $(N) --logdir $(B)/test-logs/hostile-long

# make bench-linux: Nexus beside a stock Debian Linux guest (riscv64 kernel + busybox-static,
# tools/binaries.lock, fetched by tools/fetch-binary.sh) on the same QEMU line, ROUNDS boots and
# bulk transfers of each (tools/bench_linux.py). Too slow to be part of every make bench.
LINUX_PKG      := $(shell awk '$$1 ~ /^linux-image-/ { print $$1 }' tools/binaries.lock)
binary_stamp    = $(B)/third_party/$(1)/.fetched-$(shell awk -v p='$(1)' '$$1 == p { gsub(":", "_", $$2); print $$2 }' tools/binaries.lock)
LINUX_STAMP    := $(call binary_stamp,$(LINUX_PKG))
BUSYBOX_STAMP  := $(call binary_stamp,busybox-static)
LINUX_KERNEL   := $(B)/third_party/$(LINUX_PKG)/boot/vmlinux-$(LINUX_PKG:linux-image-%=%)
LINUX_INITRD   := $(B)/linux-guest/initramfs.cpio
ROUNDS         ?= 5
.PHONY: bench-linux
$(LINUX_STAMP) $(BUSYBOX_STAMP): tools/binaries.lock tools/fetch-binary.sh | $(BOOTSTRAP)
	tools/fetch-binary.sh $(patsubst $(B)/third_party/%/,%,$(dir $@))
$(LINUX_INITRD): $(LINUX_STAMP) $(BUSYBOX_STAMP) tools/linux_initramfs.py tools/linux-guest/init tools/linux-guest/udhcpc.script
	@mkdir -p $(dir $@)
	python3 tools/linux_initramfs.py --busybox $(B)/third_party/busybox-static/usr/bin/busybox \
	  --modules $(B)/third_party/$(LINUX_PKG)/usr/lib/modules --guest tools/linux-guest --out $@
bench-linux: all $(LINUX_INITRD)
	python3 -m tools.bench_linux --qemu "$(QEMU_BASE)" --linux-kernel $(LINUX_KERNEL) --linux-initrd $(LINUX_INITRD) --rounds $(ROUNDS)
# The soak: wrk at -c32 on GET / and /bytes/N with a Membrane crash every ~30 s, /Bus sampled
# every 10 s, for SOAK_MINUTES (tests/e2e/run_soak.py; not in CI).
SOAK_MINUTES ?= 20
.PHONY: soak
soak: all $(B)/nexus-test.elf
	python3 -m tests.e2e.run_soak --qemu "$(QEMU_BASE)" --minutes $(SOAK_MINUTES) --logdir $(B)/test-logs/soak

# Everything under build/ but the fetched third-party sources and the bootstrap stamp: objects,
# images, logs and captures alike, so nothing stale survives a clean.
clean:
	find $(B) -mindepth 1 -maxdepth 1 ! -name third_party ! -name $(notdir $(BOOTSTRAP)) -exec rm -rf {} +

# Every object's compiler-generated dependencies (its headers); lwIP's sources are not ours.
-include $(shell find $(B) -path $(B)/third_party -prune -o -name '*.d' -type f -print 2>/dev/null)
# Objects and unstripped images are kept, so the next build is incremental. .PRECIOUS takes the
# target patterns of the rules that make them, exactly as written there (a wider pattern does not
# match them). Not `.SECONDARY:` for everything: that would make a header that no longer exists
# an intermediate file, and its old includers would never rebuild.
.PRECIOUS: $(B)/k/%.o $(B)/kt/%.o $(B)/u/%.o $(B)/m/%.o $(B)/mt/%.o $(B)/lwip/%.o $(B)/libfdt/%.o \
           $(HOST_OBJ)/%.o $(FUZZ_OBJ)/%.o $(HOST_OBJ)/$(LIBFDT_DIR)/%.o $(FUZZ_OBJ)/$(LIBFDT_DIR)/%.o \
           $(HOST_OBJ)/$(LWIP_DIR)/%.o $(FUZZ_OBJ)/$(LWIP_DIR)/%.o \
           $(B)/user/%.full.elf $(B)/user-test/%.full.elf
.PRECIOUS: $(B)/sodium/%.o $(B)/rinetd/%.o $(B)/mosquitto/%.o $(B)/files/%.o $(B)/files/%.S
