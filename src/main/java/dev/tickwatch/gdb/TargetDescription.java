package dev.tickwatch.gdb;

import dev.tickwatch.ProtocolException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The register layout from the stub's target description (GDB manual, "Target Descriptions":
 * "Target Description Format", "Inclusion" with {@code xi:include}, "Registers" with {@code regnum}
 * defaulting to one more than the previous register). Read with {@code qXfer:features:read};
 * nothing here is hard-coded for x86.
 *
 * @param architecture the {@code <architecture>} text, e.g. {@code i386:x86-64}, or null
 * @param registers    every register, in regnum order
 * @param files        the annex names read, in order (target.xml first)
 */
public record TargetDescription(String architecture, List<Register> registers, List<String> files) {

    /**
     * One {@code <reg>}.
     *
     * @param name    e.g. {@code rip}
     * @param regnum  its number for {@code p}/{@code P}, and its position in {@code g}
     * @param bitSize its size in bits
     * @param type    e.g. {@code code_ptr}, {@code int64}, {@code i387_ext}
     * @param feature the {@code <feature name>} it belongs to
     */
    public record Register(String name, int regnum, int bitSize, String type, String feature) {
        public int byteSize() {
            return (bitSize + 7) / 8;
        }
    }

    /**
     * Parses {@code target.xml} and every file it includes.
     *
     * @param fetch returns an annex's text by name (through {@code qXfer:features:read})
     */
    public static TargetDescription read(Function<String, String> fetch) {
        List<Register> regs = new ArrayList<>();
        List<String> files = new ArrayList<>();
        String[] arch = {null};
        int[] next = {0};
        walk("target.xml", fetch, regs, files, new HashSet<>(), arch, next, null);
        regs.sort(Comparator.comparingInt(Register::regnum));
        return new TargetDescription(arch[0], List.copyOf(regs), List.copyOf(files));
    }

    private static void walk(String annex, Function<String, String> fetch, List<Register> regs, List<String> files,
            Set<String> seen, String[] arch, int[] next, String feature) {
        if (!seen.add(annex) || seen.size() > 64) {
            return;
        }
        files.add(annex);
        Element root = parse(annex, fetch.apply(annex));
        visit(root, annex, fetch, regs, files, seen, arch, next, feature);
    }

    private static void visit(Element e, String annex, Function<String, String> fetch, List<Register> regs,
            List<String> files, Set<String> seen, String[] arch, int[] next, String feature) {
        String tag = e.getTagName();
        String local = tag.substring(tag.indexOf(':') + 1);
        switch (local) {
            case "architecture" -> arch[0] = e.getTextContent().strip();
            case "include" -> {
                String href = e.getAttribute("href");
                if (!href.isEmpty()) {
                    walk(href, fetch, regs, files, seen, arch, next, feature);
                }
                return;
            }
            case "feature" -> feature = e.getAttribute("name");
            case "reg" -> {
                String num = e.getAttribute("regnum");
                int regnum = num.isEmpty() ? next[0] : Integer.parseInt(num.strip());
                int bits;
                try {
                    bits = Integer.parseInt(e.getAttribute("bitsize").strip());
                } catch (NumberFormatException ex) {
                    throw new ProtocolException("register '" + e.getAttribute("name") + "' in " + annex
                            + " has no valid bitsize");
                }
                regs.add(new Register(e.getAttribute("name"), regnum, bits,
                        e.getAttribute("type").isEmpty() ? "int" : e.getAttribute("type"), feature));
                next[0] = regnum + 1;
                return;
            }
            default -> { }
        }
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element child) {
                visit(child, annex, fetch, regs, files, seen, arch, next, feature);
            }
        }
    }

    private static Element parse(String annex, String xml) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            // QEMU's files name gdb-target.dtd; nothing may be fetched from outside.
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            f.setExpandEntityReferences(false);
            f.setNamespaceAware(false);
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(null);
            return b.parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8))).getDocumentElement();
        } catch (Exception e) {
            throw new ProtocolException("cannot parse target description " + annex + ": " + e.getMessage(), e);
        }
    }

    /** The register named {@code name}, or null. */
    public Register register(String name) {
        for (Register r : registers) {
            if (r.name().equals(name)) {
                return r;
            }
        }
        return null;
    }

    /**
     * Byte offsets of the registers a {@code g} reply of {@code length} bytes holds: the
     * registers in regnum order, packed, while they fit (more come only through {@code p}).
     */
    public Map<Register, Integer> gLayout(int length) {
        Map<Register, Integer> out = new LinkedHashMap<>();
        int offset = 0;
        int expect = 0;
        for (Register r : registers) {
            if (r.regnum() != expect || offset + r.byteSize() > length) {
                break;
            }
            out.put(r, offset);
            offset += r.byteSize();
            expect++;
        }
        return out;
    }
}
