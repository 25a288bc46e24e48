package dev.tickwatch.command;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** A command only the shell mounts, with the reason (usually: it acts on the attached session). */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface ShellOnly {
    /** Why the CLI has no such command, or which CLI command is its twin. */
    String value();
}
