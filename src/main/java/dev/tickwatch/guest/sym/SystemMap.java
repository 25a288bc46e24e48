package dev.tickwatch.guest.sym;

import dev.tickwatch.TickwatchException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A System.map as {@code make} writes it (scripts/mksysmap: {@code nm -n vmlinux}, filtered):
 * one {@code ADDRESS TYPE NAME} line per symbol, addresses in hex as linked, before any KASLR
 * slide. Per-CPU symbols are offsets from 0, like kallsyms' absolute values.
 */
public final class SystemMap {

    private SystemMap() {
    }

    public static SymbolTable read(Path file) {
        List<Symbol> symbols = new ArrayList<>();
        int bad = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            for (String line; (line = r.readLine()) != null;) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 3 || f[1].length() != 1 || f[0].length() > 16) {
                    bad += line.isBlank() ? 0 : 1;
                    continue;
                }
                try {
                    symbols.add(new Symbol(Long.parseUnsignedLong(f[0], 16), f[1].charAt(0), f[2], null));
                } catch (NumberFormatException e) {
                    bad++;
                }
            }
        } catch (IOException e) {
            throw new TickwatchException("cannot read System.map " + file + ": " + e.getMessage(), e);
        }
        if (symbols.isEmpty()) {
            throw new TickwatchException(file + " is not a System.map: no 'ADDRESS TYPE NAME' lines"
                    + (bad > 0 ? " (" + bad + " other lines)" : ""));
        }
        return SymbolTable.of("System.map " + file, symbols);
    }
}
