/**
 * The kernel's BPF Type Format (BTF), read from the blob the kernel carries in its read-only data
 * (between {@code __start_BTF} and {@code __stop_BTF}, the same bytes as
 * {@code /sys/kernel/btf/vmlinux}). Implements the encoding in the kernel's
 * {@code Documentation/bpf/btf.rst}, section 2 ("BTF Type and String Encoding"): the header, the
 * type section with all kinds up to {@code BTF_KIND_ENUM64}, and the string section. This is how
 * tickwatch knows struct layouts of a distro kernel without vmlinux debug info; it only parses
 * bytes, finding and reading guest memory is done elsewhere.
 */
package dev.tickwatch.guest.btf;
