/**
 * Kernel stacks unwound from guest memory with the kernel's own unwind data, as
 * arch/x86/kernel/unwind_orc.c does it: the ORC tables ({@code __start_orc_unwind_ip},
 * {@code __start_orc_unwind}, {@code orc_lookup}) of vmlinux and of each module, found through
 * kallsyms, read page by page; the stacks (task, IRQ, exception, entry) bounded as
 * arch/x86/kernel/dumpstack_64.c bounds them; frames printed as show_trace_log_lvl prints them.
 * A kernel without ORC is unwound by its frame pointers, and one with neither only scanned, and
 * each trace says which. Nothing here pauses the guest: the caller picks registers read inside a
 * gdbstub pause (exact) or from HMP while the guest runs (may tear).
 */
package dev.tickwatch.guest.unwind;
