package dev.tickwatch.lab;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.util.FileTrees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the hang lab's kernel module (shipped as source in the jar) against the headers of
 * the guest kernel's exact ABI, once per ABI and source version, into
 * {@code $TICKWATCH_CACHE/lab/ABI/HASH/tickwatch_lab.ko}.
 */
public final class LabModule {

    private static final List<String> SOURCES = List.of("tickwatch_lab.c", "Kbuild");
    private static final long BUILD_TIMEOUT_S = 300;

    private LabModule() {
    }

    /** The built module for {@code kernel}; builds it if needed (about 2 s). */
    public static synchronized Path build(KernelCache cache, KernelCache.Kernel kernel) {
        Path headers = kernel.requireHeaders();
        byte[][] sources = new byte[SOURCES.size()][];
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (int i = 0; i < SOURCES.size(); i++) {
            sources[i] = resource(SOURCES.get(i));
            sha.update(SOURCES.get(i).getBytes(StandardCharsets.UTF_8));
            sha.update(sources[i]);
        }
        String hash = HexFormat.of().formatHex(sha.digest()).substring(0, 12);
        Path dir = cache.root().resolve("lab").resolve(kernel.abi()).resolve(hash);
        Path ko = dir.resolve("tickwatch_lab.ko");
        if (Files.isRegularFile(ko)) {
            return ko;
        }
        Path tmp = null;
        try {
            Files.createDirectories(dir.getParent());
            tmp = Files.createTempDirectory(dir.getParent(), ".build-");
            for (int i = 0; i < SOURCES.size(); i++) {
                Files.write(tmp.resolve(SOURCES.get(i)), sources[i]);
            }
            Path log = tmp.resolve("build.log");
            Process make = new ProcessBuilder("make", "-C", headers.toString(), "M=" + tmp, "modules")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!make.waitFor(BUILD_TIMEOUT_S, TimeUnit.SECONDS)) {
                make.destroyForcibly();
                throw new TickwatchException("building the lab module timed out after " + BUILD_TIMEOUT_S + " s");
            }
            if (make.exitValue() != 0 || !Files.isRegularFile(tmp.resolve("tickwatch_lab.ko"))) {
                List<String> lines = Files.readAllLines(log);
                throw new TickwatchException("building the lab module against " + headers + " failed:\n"
                        + String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())));
            }
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raced) {
                if (!Files.isRegularFile(ko)) {
                    throw raced;
                }
            }
            return ko;
        } catch (IOException e) {
            String why = e.getMessage();
            if (why != null && why.contains("\"make\"")) {
                why = "make is missing (apt-get install make gcc; bin/setup installs them with the headers)";
            }
            throw new TickwatchException("cannot build the lab module: " + why, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TickwatchException("interrupted while building the lab module", e);
        } finally {
            if (tmp != null && Files.exists(tmp)) {
                FileTrees.deleteTree(tmp);
            }
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = LabModule.class.getResourceAsStream("/tickwatch/lab/" + name)) {
            if (in == null) {
                throw new TickwatchException("lab module source " + name + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new TickwatchException("cannot read lab module source " + name, e);
        }
    }
}
