package dev.tickwatch.boot.cluster;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

/**
 * How a node starts tickwatch when the caller does not say: the same Java and the same jar (or
 * class path) as this process, by absolute path. That assumes a shared file system, as on a
 * one-machine cluster or a cluster whose nodes mount the same home; elsewhere give the command
 * (e.g. {@code tickwatch} on the image's PATH, or {@code /shared/tickwatch/bin/tickwatch}).
 */
public final class NodeCommand {

    /** The main class, for a class-path run (tests, an IDE); named here, not imported: cli is above boot. */
    static final String MAIN_CLASS = "dev.tickwatch.cli.Main";

    private NodeCommand() {
    }

    /** {@code JAVA -jar JAR} when running from a jar, else {@code JAVA -cp CLASSPATH Main}. */
    public static List<String> current() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path jar = codeSource();
        if (jar != null && jar.toString().endsWith(".jar")) {
            return List.of(java, "-jar", jar.toString());
        }
        return List.of(java, "-cp", classPath(), MAIN_CLASS);
    }

    private static Path codeSource() {
        try {
            var cs = NodeCommand.class.getProtectionDomain().getCodeSource();
            return cs == null ? null : Path.of(cs.getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
            return null;
        }
    }

    private static String classPath() {
        StringBuilder sb = new StringBuilder();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!e.isEmpty()) {
                sb.append(sb.length() == 0 ? "" : java.io.File.pathSeparator).append(Path.of(e).toAbsolutePath());
            }
        }
        return sb.toString();
    }
}
