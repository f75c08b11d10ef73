"""Checks that the image users boot (build/nexus.elf) holds only what its boot manifest runs:
no test runner (kernel/selftest.c), no test instrument (the NetSwitch's RX cost histogram, the
guest-time profile of kernel/profile.h), and exactly the images the default manifest names. Test
code lives in build/nexus-test.elf."""
import os
import re
import subprocess

from tools.bench import embedded_images

NM = "riscv64-unknown-elf-nm"
TEST_ONLY_SYMBOLS = ["selftest_start", "nettest_start", "ns_rx_cost_record", "profile_publish"]


def default_manifest_images(path="kernel/manifest.c"):
    """The images the product's default manifest names, read from the preprocessed source (its
    entries may come from macros)."""
    text = subprocess.run(["gcc", "-E", "-P", "-Ikernel", "-Iinclude", path], stdout=subprocess.PIPE,
                          check=True).stdout.decode()
    block = re.search(r"default_entries\[\] = \{(.*?)\n\};", text, re.S).group(1)
    return sorted(set(re.findall(r'\.image = "([^"]+)"', block)))




def symbols(elf):
    out = subprocess.run([NM, elf], stdout=subprocess.PIPE, check=True).stdout.decode()
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def check_product(build="build"):
    """(name, ok, detail) per check."""
    product, test = symbols(f"{build}/nexus.elf"), symbols(f"{build}/nexus-test.elf")
    results = []
    for sym in TEST_ONLY_SYMBOLS:
        results.append((f"product_has_no_{sym}", sym not in product, "found in build/nexus.elf"))
        results.append((f"test_kernel_has_{sym}", sym in test, "missing from build/nexus-test.elf"))
    want = default_manifest_images()
    got = sorted(os.path.basename(p)[:-len(".elf")] for p in embedded_images(f"{build}/images.S"))
    results.append(("product_embeds_the_manifest_images", got == want, f"embeds {got}, the manifest runs {want}"))
    images = sorted(s for s in product if re.fullmatch(r"image_\d+", s))
    results.append(("product_image_table_matches", len(images) == len(want), f"{len(images)} images in the ELF"))
    return results
