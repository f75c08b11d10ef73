/*
 * Kernel entry. OpenSBI fw_dynamic jumps here in S-mode with the MMU off:
 *   a0 = boot hart id, a1 = physical address of the flattened device tree.
 */
    .section .text.entry
    .globl _start
_start:
    csrw sie, zero
    csrw sscratch, zero          /* 0 in sscratch means "trap came from the kernel" */
    li t0, 3 << 13               /* sstatus.FS: OpenSBI leaves the FPU on; nothing here uses it, */
    csrc sstatus, t0             /* and off it cannot carry f0-f31 from one fiber to the next */
    la sp, boot_stack_top
    la t0, __bss_start           /* both 64-byte aligned (linker.ld): 64 bytes a turn in 10 */
    la t1, __bss_end             /* instructions, where a word a turn took 32 */
    bgeu t0, t1, 2f
1:  sd zero, 0(t0)
    sd zero, 8(t0)
    sd zero, 16(t0)
    sd zero, 24(t0)
    sd zero, 32(t0)
    sd zero, 40(t0)
    sd zero, 48(t0)
    sd zero, 56(t0)
    addi t0, t0, 64
    bltu t0, t1, 1b
2:  call kmain
3:  wfi                          /* kmain never returns */
    j 3b

    .section .bss
    .align 12
boot_stack:
    .space 16384
    .globl boot_stack_top
boot_stack_top:
