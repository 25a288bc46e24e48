package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stack scan: kernel text words only, at their slots, never read past the stack's top. */
class SnapshotStackScanTest {

    private static final long TEXT = 0xffffffff81000000L;

    @Test
    void onlyWordsInKernelTextAreListedWithTheirSlots() {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, 0xffff888001234567L);   // a heap pointer
        b.putLong(8, TEXT + 0x1234);         // a return address
        b.putLong(16, 42);                   // a number
        b.putLong(40, TEXT + 0x10);
        long rsp = 0xffffc90000013f00L;
        List<StackScan.Entry> e = StackScan.scan(rsp, b.array(),
                a -> Long.compareUnsigned(a, TEXT) >= 0 && Long.compareUnsigned(a, TEXT + 0x100000) < 0,
                a -> "fn+0x" + Long.toHexString(a - TEXT));
        assertEquals(List.of(new StackScan.Entry(rsp + 8, TEXT + 0x1234, "fn+0x1234"),
                new StackScan.Entry(rsp + 40, TEXT + 0x10, "fn+0x10")), e);
    }

    @Test
    void aMisalignedRspScansFromTheNextAlignedSlot() {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(4, TEXT);
        List<StackScan.Entry> e = StackScan.scan(0x1004, b.array(), a -> a == TEXT, a -> "x");
        assertEquals(List.of(new StackScan.Entry(0x1008, TEXT, "x")), e);
    }

    @Test
    void theReadStopsAtTheTopOfTheSixteenKibStack() {
        assertEquals(280, StackScan.readableLength(0xffffd2e8003ebee8L));
        assertEquals(StackScan.SCAN_BYTES, StackScan.readableLength(0xffffd2e8003e8000L));
        assertEquals(8, StackScan.readableLength(0xffffd2e8003ebff8L));
    }
}
