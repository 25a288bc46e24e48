package dev.tickwatch.guest.mem;

/**
 * x86-64 page-table walk (Intel SDM vol. 3A, 4.5 "4-level paging and 5-level paging"): from a root
 * (CR3 without its PCID/flag bits) through PML5 (when LA57), PML4, PDPT, PD, PT, honouring 1 GiB
 * and 2 MiB pages. Entries are read through a physical reader, so this works on any backend
 * that can read guest physical memory.
 */
public final class PageTables {

    /** Physical address bits 12..51 of a table entry. */
    private static final long ADDRESS_MASK = 0x000f_ffff_ffff_f000L;
    private static final long PRESENT = 1;
    private static final long PAGE_SIZE_BIT = 1L << 7;

    /** Reads one 64-bit page-table entry at a guest physical address. */
    @FunctionalInterface
    public interface EntryReader {
        long readPhysicalLong(long physicalAddress);
    }

    /** A translation: the physical address and how many bytes from it stay in the same page. */
    public record Mapping(long physical, long bytesLeftInPage) {
    }

    private final long root;
    private final int levels;
    private final EntryReader reader;

    /**
     * @param cr3  the page-table root as CR3 holds it (PCID and flag bits are dropped here)
     * @param la57 five-level paging (CR4 bit 12)
     */
    public PageTables(long cr3, boolean la57, EntryReader reader) {
        this.root = cr3 & ADDRESS_MASK;
        this.levels = la57 ? 5 : 4;
        this.reader = reader;
    }

    public long root() {
        return root;
    }

    /** The physical address of {@code virtual}, or throws {@link GuestMemoryException} if unmapped. */
    public Mapping translate(long virtual) {
        long table = root;
        for (int level = levels; level >= 1; level--) {
            int shift = 12 + 9 * (level - 1);
            long index = (virtual >>> shift) & 0x1ff;
            long entry = reader.readPhysicalLong(table + index * 8);
            if ((entry & PRESENT) == 0) {
                throw new GuestMemoryException(virtual, "virtual address 0x" + Long.toHexString(virtual)
                        + " not mapped (level " + level + " entry not present)");
            }
            long pageSize = 1L << shift;
            if (level == 1 || ((level == 2 || level == 3) && (entry & PAGE_SIZE_BIT) != 0)) {
                long base = entry & ADDRESS_MASK & ~(pageSize - 1);
                long inPage = virtual & (pageSize - 1);
                return new Mapping(base + inPage, pageSize - inPage);
            }
            table = entry & ADDRESS_MASK;
        }
        throw new AssertionError("unreachable");
    }
}
