/**
 * The kernel's log read from guest memory: the lockless printk ring buffer of Linux 5.10 and
 * later ({@code kernel/printk/printk_ringbuffer.{c,h}}), its layouts taken from the guest's BTF;
 * the records as {@code dmesg} and {@code /dev/kmsg} print them; and the kernel's own detectors'
 * reports (soft and hard lockups, RCU stalls, hung tasks, lockdep, WARN, BUG, Oops, panic) found
 * among them. Reading never pauses the guest: records a writer is changing under the read are
 * skipped and counted, never guessed.
 */
package dev.tickwatch.guest.log;
