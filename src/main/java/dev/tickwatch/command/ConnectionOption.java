package dev.tickwatch.command;

/**
 * Marks a mixin whose option says where the guest is ({@code --qmp}, {@code --gdb}, {@code --console},
 * {@code --backend}). The CLI connects from them; the shell is attached already, so it removes
 * these options from the commands it mounts.
 */
public interface ConnectionOption {
}
