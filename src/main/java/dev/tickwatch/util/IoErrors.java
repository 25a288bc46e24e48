package dev.tickwatch.util;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * What is wrong with a file, in words, for "cannot read X: ..." messages. Java's file exceptions
 * carry the file name as their whole message ({@code cannot read x.json: x.json}); this says why.
 */
public final class IoErrors {

    private IoErrors() {
    }

    /** Why {@code e} happened: "no such file", "permission denied", "is a folder", ... */
    public static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof NotDirectoryException) {
            return "not a folder";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "folder not empty";
        }
        if (e instanceof FileSystemException f) {
            String r = f.getReason();
            if (r != null && r.toLowerCase(java.util.Locale.ROOT).contains("is a directory")) {
                return "is a folder, not a file";
            }
            return r != null ? r.toLowerCase(java.util.Locale.ROOT) : "cannot be read or written";
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? "input/output error" : m;
    }
}
