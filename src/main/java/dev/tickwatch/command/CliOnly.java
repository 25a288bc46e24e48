package dev.tickwatch.command;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A command the CLI mounts and the shell does not, with the reason. Every other command class of
 * the CLI's tree is also in the shell's (a test holds the two trees to that).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface CliOnly {
    /** Why the shell has no use for it. */
    String value();
}
