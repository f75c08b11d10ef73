/*
 * User-mode entry. The kernel starts a fiber here with a0 = argc, a1 = argv and sp just below
 * argv. picolibc keeps errno in thread-local storage reached through tp, so the first job is
 * a TLS block (on the stack) initialised from the image's .tdata/.tbss.
 */
    .section .text.entry
    .globl _start
_start:
    mv s0, a0
    mv s1, a1
    la t0, __tls_size
    sub sp, sp, t0
    andi sp, sp, -16
    mv s2, sp
    mv a0, s2
    call _init_tls
    mv a0, s2
    call _set_tls
    mv a0, s0
    mv a1, s1
    call main
    call exit
1:  j 1b
