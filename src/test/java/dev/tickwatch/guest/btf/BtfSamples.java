package dev.tickwatch.guest.btf;

import static dev.tickwatch.guest.btf.BtfWriter.bits;
import static dev.tickwatch.guest.btf.BtfWriter.m;

/** Small BTF blobs with every kind and the layouts the tests check. */
final class BtfSamples {

    private BtfSamples() {
    }

    /**
     * {@code struct demo} (80 bytes, kind_flag bitfields, an anonymous union holding an anonymous
     * struct, a typedef chain, const volatile, a char array, a self pointer, an enum, a function
     * pointer, a pointer to a forward declaration); {@code struct old} with a pre-kind_flag
     * bitfield; {@code irq_cpustat_t} as a typedef of an anonymous struct; enums; and one of each
     * remaining kind.
     */
    static byte[] demo() {
        BtfWriter w = new BtfWriter();
        int uint = w.integer("unsigned int", 4, 0, 32);
        int sint = w.integer("int", 4, BtfInt.SIGNED, 32);
        int chr = w.integer("char", 1, BtfInt.SIGNED, 8);
        int s64base = w.integer("long long int", 8, BtfInt.SIGNED, 64);
        int u64 = w.integer("long long unsigned int", 8, 0, 64);
        int ulong = w.integer("long unsigned int", 8, 0, 64);
        int s64 = w.typedef("s64", s64base);
        int ktime = w.typedef("ktime_t", s64);
        int vol = w.modifier(BtfKind.VOLATILE, uint);
        int cv = w.modifier(BtfKind.CONST, vol);
        int comm = w.array(chr, uint, 16);
        int state = w.enumeration("clock_event_state", 4, false,
                m("CLOCK_EVT_STATE_DETACHED", 0, 0), m("CLOCK_EVT_STATE_SHUTDOWN", 1, 0),
                m("CLOCK_EVT_STATE_PERIODIC", 2, 0), m("CLOCK_EVT_STATE_ONESHOT", 3, 0),
                m("CLOCK_EVT_STATE_ONESHOT_STOPPED", 4, 0));
        int fwd = w.fwd("fwdonly", false);
        int fwdPtr = w.ptr(fwd);
        // struct demo is referenced before it is defined, as real BTF does for self pointers.
        int demoId = 20;
        int demoPtr = w.ptr(demoId);
        int proto = w.funcProto(0, demoPtr);
        int handler = w.ptr(proto);
        int inner = w.struct("", 8, false, m("lo", sint, 0), m("hi", sint, 32));
        int anonUnion = w.union("", 8, false, m("whole", u64, 0), m("", inner, 0));
        int demo = w.struct("demo", 80, true,
                m("next_tick", ktime, 0),
                bits("a", uint, 64, 1), bits("b", uint, 65, 3), bits("c", sint, 68, 4),
                m("", anonUnion, 128),
                m("comm", comm, 192),
                m("state", cv, 320),
                m("next", demoPtr, 384),
                m("st", state, 448),
                m("event_handler", handler, 512),
                m("opaque", fwdPtr, 576));
        if (demo != demoId) {
            throw new AssertionError("struct demo is id " + demo);
        }
        int oldBits = w.intBits("unsigned int", 4, 0, 0, 3);
        w.struct("old", 4, false, m("x", oldBits, 5), m("y", sint, 0));
        int irq = w.struct("", 8, false, m("__softirq_pending", uint, 0), m("apic_timer_irqs", uint, 32));
        w.typedef("irq_cpustat_t", irq);
        w.enum64("big", false, m("SMALL", 1, 0), m("HUGE", 0xfffffffe00000001L, 0));
        w.enumeration("sgn", 4, true, m("NEG", -2, 0), m("POS", 2, 0));
        w.enumeration("", 4, false, m("TICKDEV_MODE_PERIODIC", 0, 0), m("TICKDEV_MODE_ONESHOT", 1, 0));
        w.func("tick_handle", proto);
        int jiffies = w.var("jiffies", ulong);
        w.datasec(".data", 8, jiffies, 0, 8);
        w.floating("double", 8);
        w.declTag("user", demo, 0);
        w.ptr(w.typeTag("percpu", sint));
        w.modifier(BtfKind.RESTRICT, demoPtr);
        return w.build();
    }

    /**
     * A blob shaped like a kernel's, big as one (over 10,000 types, over 1,000 structs): the
     * layouts {@code BtfHostKernelTest} checks (list_head, task_struct's __state before comm,
     * clock_event_state) among thousands of generated structs that point at each other.
     */
    static byte[] kernelLike() {
        BtfWriter w = new BtfWriter();
        int uint = w.integer("unsigned int", 4, 0, 32);
        int chr = w.integer("char", 1, BtfInt.SIGNED, 8);
        w.integer("long unsigned int", 8, 0, 64);
        // list_head's pointers come before it, as in vmlinux: ids are handed out in order.
        int listHeadPtr = w.ptr(5);
        int listHead = w.struct("list_head", 16, false, m("next", listHeadPtr, 0), m("prev", listHeadPtr, 64));
        if (listHead != 5) {
            throw new AssertionError("struct list_head is id " + listHead);
        }
        int comm = w.array(chr, uint, 16);
        w.enumeration("clock_event_state", 4, false,
                m("CLOCK_EVT_STATE_DETACHED", 0, 0), m("CLOCK_EVT_STATE_SHUTDOWN", 1, 0),
                m("CLOCK_EVT_STATE_PERIODIC", 2, 0), m("CLOCK_EVT_STATE_ONESHOT", 3, 0),
                m("CLOCK_EVT_STATE_ONESHOT_STOPPED", 4, 0));
        w.struct("task_struct", 9856, false, m("__state", uint, 24 * 8), m("tasks", listHead, 2048 * 8),
                m("comm", comm, 3000 * 8));
        int name = w.array(chr, uint, 8);
        int previous = listHead;
        for (int i = 0; i < 3400; i++) {
            int ptr = w.ptr(previous);
            previous = w.struct("generated_" + i, 24, false, m("a", uint, 0), m("link", ptr, 64), m("name", name, 128));
            w.typedef("generated_" + i + "_t", previous);
        }
        return w.build();
    }
}
