package dev.tickwatch.command;

import dev.tickwatch.TickwatchException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.function.Function;
import picocli.CommandLine;

/**
 * The one error handler of both trees, and the only place that turns an exception into an exit
 * code, so that no error can come out as {@link ExitCode#HANG}. A bad command line, or a value
 * {@code call()} refuses ({@link CommandLine.ParameterException}, see {@link Commands#usage}; or
 * an {@link IllegalArgumentException} from a value handed down, whose message says what was
 * expected), is {@link ExitCode#USAGE}, with picocli's suggestions or a hint where help is
 * ({@code tickwatch X --help} in the CLI, {@code help X} in the shell). A
 * {@link TickwatchException}, or a file that cannot be read or written, is one line in plain
 * words and {@link ExitCode#CANNOT_TEST}; anything else is our bug, gets its stack trace, and is
 * {@link ExitCode#CANNOT_TEST} too.
 */
public final class ErrorHandler implements CommandLine.IExecutionExceptionHandler,
        CommandLine.IParameterExceptionHandler {

    private final Function<CommandLine, String> helpHint;

    private ErrorHandler(Function<CommandLine, String> helpHint) {
        this.helpHint = helpHint;
    }

    /**
     * Installs the handlers and the exit code mapping on {@code cl}.
     *
     * @param helpHint the line that says where help for a command is
     */
    public static CommandLine install(CommandLine cl, Function<CommandLine, String> helpHint) {
        ErrorHandler h = new ErrorHandler(helpHint);
        cl.setExitCodeExceptionMapper(ErrorHandler::exitCode);
        cl.setExecutionExceptionHandler(h);
        cl.setParameterExceptionHandler(h);
        return cl;
    }

    /** The exit code for {@code t} thrown by a command: never {@link ExitCode#HANG}. */
    public static int exitCode(Throwable t) {
        return t instanceof CommandLine.ParameterException || t instanceof IllegalArgumentException
                ? ExitCode.USAGE : ExitCode.CANNOT_TEST;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine line, CommandLine.ParseResult parsed) {
        Throwable t = ex instanceof UncheckedIOException u ? u.getCause() : ex;
        if (t instanceof IllegalArgumentException || t instanceof TickwatchException) {
            line.getErr().println("tickwatch: " + t.getMessage());
        } else if (t instanceof IOException io) {
            line.getErr().println("tickwatch: " + plain(io));
        } else {
            line.getErr().println("tickwatch: internal error: " + t);
            t.printStackTrace(line.getErr());
        }
        line.getErr().flush();
        return exitCode(t);
    }

    /** An I/O failure in words: what is wrong with which file, not the exception's class. */
    static String plain(IOException e) {
        if (e instanceof FileSystemException f && f.getFile() != null) {
            String file = f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile());
            if (e instanceof NoSuchFileException) {
                return "no such file or folder: " + file;
            }
            if (e instanceof AccessDeniedException) {
                return "permission denied: " + file;
            }
            if (e instanceof FileAlreadyExistsException) {
                return "already exists: " + file;
            }
            if (e instanceof NotDirectoryException) {
                return "not a folder: " + file;
            }
            if (e instanceof DirectoryNotEmptyException) {
                return "folder not empty: " + file;
            }
            return file + ": " + (f.getReason() != null ? f.getReason() : "cannot be read or written");
        }
        return e.getMessage() != null ? e.getMessage() : "input/output error";
    }

    private static final java.util.regex.Pattern NOT_A_NUMBER = java.util.regex.Pattern.compile(
            "Invalid value for (?:option '([^']+)'|positional parameter at index \\d+ \\(([^)]+)\\)): "
                    + "'(.*)' is not an? (int|long|short|byte|double|float)");

    /** Picocli's words where they are a programmer's: {@code 'abc' is not a long} is not a whole number. */
    static String plain(String message) {
        if (message == null) {
            return "bad command line";
        }
        java.util.regex.Matcher m = NOT_A_NUMBER.matcher(message);
        if (m.find()) {
            String what = m.group(1) != null ? m.group(1) : m.group(2);
            boolean whole = !m.group(4).equals("double") && !m.group(4).equals("float");
            return what + ": '" + m.group(3) + "' is not a " + (whole ? "whole number" : "number");
        }
        return message;
    }

    @Override
    public int handleParseException(CommandLine.ParameterException ex, String[] args) {
        CommandLine c = ex.getCommandLine();
        c.getErr().println("tickwatch: " + plain(ex.getMessage()));
        if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, c.getErr())) {
            c.getErr().println(helpHint.apply(c));
        }
        c.getErr().flush();
        return ExitCode.USAGE;
    }
}
