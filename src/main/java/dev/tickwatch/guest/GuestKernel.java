package dev.tickwatch.guest;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.btf.BtfField;
import dev.tickwatch.guest.btf.BtfLocation;
import dev.tickwatch.guest.mem.GuestMemory;
import dev.tickwatch.guest.mem.GuestMemoryException;
import dev.tickwatch.guest.mem.MemoryBackends;
import dev.tickwatch.guest.mem.ProcMemory;
import dev.tickwatch.guest.sym.Image;
import dev.tickwatch.guest.sym.Kallsyms;
import dev.tickwatch.guest.sym.KernelImage;
import dev.tickwatch.guest.sym.SymbolOffset;
import dev.tickwatch.guest.sym.SymbolTable;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.qmp.hmp.Hmp;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The running guest kernel seen from outside, prepared from nothing but its memory: a memory
 * backend, the kernel image's place (KASLR included), kallsyms and BTF found in that image, and
 * the per-CPU areas. Everything read afterwards (timers, tasks, modules) is a fresh read of guest
 * memory, without pausing the guest unless the memory backend itself pauses.
 *
 * <p>What is missing degrades, it does not guess: without BTF, symbol lookups still work and
 * struct readings throw {@link GuestLayoutException} naming the missing piece; without data symbols
 * (a kallsyms built without KALLSYMS_ALL) text symbols still name RIPs, and the per-CPU offsets are
 * only looked for when a per-CPU reading needs them. The developer's vmlinux or System.map
 * ({@link KernelFiles}) supplies what the memory lacks, slid to the running kernel and checked
 * against it.
 */
public final class GuestKernel implements AutoCloseable {

    /** Task state bits, include/linux/sched.h; stable since 4.14, and not in BTF (they are #defines). */
    private static final long TASK_REPORT = 0x7f;
    private static final long TASK_UNINTERRUPTIBLE = 0x2;
    private static final long TASK_NOLOAD = 0x400;
    private static final long PF_KTHREAD = 0x00200000;
    private static final String STATE_LETTERS = "RSDTtXZP";
    private static final int MAX_TASKS = 1 << 16;

    private final QmpClient qmp;
    private final GuestMemory memory;
    private final List<String> passedOver;
    private final KernelImage.Range image;
    private final SymbolTable symbols;
    private final Btf btf;
    private final String btfProblem;
    private final String typesFrom;
    private final int cpuCount;
    /** Read on first use: a text-only kallsyms has no __per_cpu_offset, and most readings need none. */
    private volatile long[] perCpuOffsets;
    private final String version;
    private final Timings timings;
    private final Modules modules;

    /** How long each attach step took, for the benchmark and the user's patience. */
    public record Timings(double memoryMs, double imageMs, double kallsymsMs, double btfMs, double totalMs) {
    }

    private GuestKernel(QmpClient qmp, GuestMemory memory, List<String> passedOver, KernelImage.Range image,
            SymbolTable symbols, Btf btf, String btfProblem, String typesFrom, int cpuCount, String version,
            Timings timings) {
        this.qmp = qmp;
        this.memory = memory;
        this.passedOver = passedOver;
        this.image = image;
        this.symbols = symbols;
        this.btf = btf;
        this.btfProblem = btfProblem;
        this.typesFrom = typesFrom;
        this.cpuCount = cpuCount;
        this.version = version;
        this.timings = timings;
        this.modules = new Modules(this);
    }

    /** Attaches with the fastest non-pausing memory backend. */
    public static GuestKernel attach(QmpClient qmp) {
        return attach(qmp, null, KernelFiles.NONE);
    }

    /** Attaches reading memory through {@code backend} only (null: the fastest that works). */
    public static GuestKernel attach(QmpClient qmp, GuestMemory.Backend backend) {
        return attach(qmp, backend, KernelFiles.NONE);
    }

    /**
     * Attaches reading memory through {@code backend} (null: the fastest that works), with
     * symbols and types from {@code files} when given.
     *
     * @throws KernelMismatchException when the files are of another build than the running kernel
     */
    public static GuestKernel attach(QmpClient qmp, GuestMemory.Backend backend, KernelFiles files) {
        long t0 = System.nanoTime();
        List<CpuRegisters> cpus = new Hmp(qmp).registers();
        MemoryBackends.Choice choice = MemoryBackends.open(qmp, cpus, backend);
        return attach(qmp, choice.memory(), choice.passedOver(), cpus, files, t0);
    }

    /** Attaches over a memory backend the caller opened (e.g. the gdbstub's). */
    public static GuestKernel attach(QmpClient qmp, GuestMemory memory, List<CpuRegisters> cpus) {
        return attach(qmp, memory, List.of(), cpus, KernelFiles.NONE, System.nanoTime());
    }

    /** Like {@link #attach(QmpClient, GuestMemory, List)}, with the developer's files. */
    public static GuestKernel attach(QmpClient qmp, GuestMemory memory, List<CpuRegisters> cpus, KernelFiles files) {
        return attach(qmp, memory, List.of(), cpus, files, System.nanoTime());
    }

    private static GuestKernel attach(QmpClient qmp, GuestMemory memory, List<String> passedOver,
            List<CpuRegisters> cpus, KernelFiles files, long t0) {
        try {
            long t1 = System.nanoTime();
            KernelImage.Range range = KernelImage.locate(memory, cpus);
            long t2 = System.nanoTime();
            Image img = Image.of(memory, range.start(), range.length());
            SymbolTable symbols;
            Btf btf = null;
            String btfProblem = null;
            String typesFrom = null;
            Build known = null;
            KernelFiles.Loaded loaded = null;
            if (files != null && !files.isEmpty()) {
                loaded = files.load();
                symbols = files.place(loaded, memory, cpus, range, img);
                btf = loaded.btf();
                typesFrom = loaded.typesFrom();
            } else {
                known = Build.recognise(memory, range);
                SymbolTable slid = known == null ? null : known.symbols().slide(range.start() - known.imageStart());
                if (slid != null && liveCheck(slid, memory, cpus) != null) {
                    known = null;
                    slid = null;
                }
                symbols = slid != null ? slid : Kallsyms.find(img, k -> liveCheck(k, memory, cpus));
            }
            long t3 = System.nanoTime();
            if (memory instanceof ProcMemory proc) {
                // A vCPU's CR3 belongs to whatever process ran last; the kernel's own root outlives it.
                boolean la57 = cpus.stream().anyMatch(c -> (c.cr4() & (1L << 12)) != 0);
                symbols.addressOf("init_top_pgt").ifPresent(pgd -> proc.usePageTableRoot(proc.translate(pgd), la57));
            }
            if (known != null) {
                btf = known.btf();
                btfProblem = known.btfProblem();
                typesFrom = known.typesFrom();
            } else if (btf == null) {
                try {
                    BtfFound found = loadBtf(memory, symbols, img);
                    btf = found.btf();
                    typesFrom = found.from();
                } catch (TickwatchException e) {
                    btfProblem = loaded != null && loaded.noTypes() != null ? loaded.noTypes() + "; " + e.getMessage()
                            : e.getMessage();
                }
            }
            long t4 = System.nanoTime();
            Optional<Long> bannerAt = symbols.addressOf("linux_banner");
            if (bannerAt.isEmpty() && known != null) {
                bannerAt = Optional.of(known.bannerOffset() + range.start());
            } else if (bannerAt.isEmpty()) {
                bannerAt = KernelImage.banner(img);
            }
            String version = bannerAt.map(a -> KernelFiles.banner(memory, a)).orElse(null);
            if (version == null) {
                version = "?";
            } else if (known == null && loaded == null && symbols instanceof Kallsyms k) {
                Build.remember(new Build(version, range.start(), bannerAt.get() - range.start(),
                        memory.read(k.tokenTableAddress(), 2048), k, btf, btfProblem, typesFrom));
            }
            Timings timings = new Timings(ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t3, t4), ms(t0, System.nanoTime()));
            return new GuestKernel(qmp, memory, passedOver, range, symbols, btf, btfProblem, typesFrom, cpus.size(),
                    version, timings);
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    /**
     * A kernel build already decoded in this process: a boot loop boots the same kernel thousands
     * of times, and decoding kallsyms and BTF is most of an attach's cost. A guest is recognised as
     * the same build when its banner, at the same distance from the image start, reads the same;
     * KASLR only slides the addresses.
     */
    private record Build(String banner, long imageStart, long bannerOffset, byte[] tokens, Kallsyms symbols, Btf btf,
            String btfProblem, String typesFrom) {
        private static final java.util.List<Build> KNOWN = new java.util.concurrent.CopyOnWriteArrayList<>();

        static void remember(Build b) {
            if (KNOWN.size() < 8 && KNOWN.stream().noneMatch(k -> k.banner.equals(b.banner))) {
                KNOWN.add(b);
            }
        }

        static Build recognise(GuestMemory memory, KernelImage.Range range) {
            for (Build b : KNOWN) {
                long here = b.bannerOffset + range.start();
                try {
                    // The banner names the build; the token table (its bytes depend on every symbol
                    // name) guards against two builds that print the same banner.
                    long tokens = b.symbols.tokenTableAddress() - b.imageStart + range.start();
                    if (memory.readCString(here, 256).strip().equals(b.banner)
                            && java.util.Arrays.equals(memory.read(tokens, b.tokens.length), b.tokens)) {
                        return b;
                    }
                } catch (GuestMemoryException e) {
                    // Not this build.
                }
            }
            return null;
        }
    }

    private static double ms(long from, long to) {
        return (to - from) / 1e6;
    }

    /**
     * Whether decoded symbols describe the running kernel: {@code linux_banner} reads as a banner
     * where they put it, and the IDT's divide-error gate points where they put
     * {@code asm_exc_divide_error}. Null when they do; else what is wrong.
     */
    static String liveCheck(SymbolTable k, GuestMemory memory, List<CpuRegisters> cpus) {
        Optional<Long> banner = k.addressOf("linux_banner");
        if (banner.isPresent()) {
            try {
                if (!memory.readCString(banner.get(), 16).startsWith("Linux version")) {
                    return "linux_banner at 0x" + Long.toHexString(banner.get()) + " is not the banner (a stale copy?)";
                }
            } catch (GuestMemoryException e) {
                return "linux_banner at 0x" + Long.toHexString(banner.get()) + " is not mapped (a stale copy?)";
            }
        }
        Optional<Long> divide = k.addressOf("asm_exc_divide_error");
        CpuRegisters c = cpus.isEmpty() ? null : cpus.get(0);
        if (divide.isPresent() && c != null) {
            java.util.OptionalLong handler = KernelImage.divideErrorHandler(memory, c);
            // No IDT to compare with: the banner check stands alone. Before trap_init() the IDT is
            // the early one (idt_setup_early_handler()), whose vector 0 points at
            // early_idt_handler_array: as telling a match. Rejecting it made every attach in that
            // window decode kallsyms in full and fail (most of a 2 s boot's watcher CPU).
            if (handler.isPresent() && handler.getAsLong() != divide.get()
                    && !k.addressOf("early_idt_handler_array").equals(Optional.of(handler.getAsLong()))) {
                return "the IDT's divide-error gate points to 0x" + Long.toHexString(handler.getAsLong())
                        + ", not to asm_exc_divide_error at 0x" + Long.toHexString(divide.get());
            }
        }
        return null;
    }

    private record BtfFound(Btf btf, String from) {
    }

    /** BTF between __start_BTF and __stop_BTF when the symbols list them, else searched for in the image. */
    private static BtfFound loadBtf(GuestMemory memory, SymbolTable symbols, Image img) {
        Optional<Long> start = symbols.addressOf("__start_BTF");
        Optional<Long> stop = symbols.addressOf("__stop_BTF");
        if (start.isPresent() && stop.isPresent() && stop.get() - start.get() > 0 && stop.get() - start.get() < (256 << 20)) {
            return new BtfFound(Btf.parse(memory.read(start.get(), (int) (stop.get() - start.get()))),
                    "guest memory (__start_BTF..__stop_BTF)");
        }
        byte[] all = img.bytes(img.base(), img.length());
        BtfLocation at = Btf.find(all).orElseThrow(() -> new GuestLayoutException(
                "no BTF in the kernel image (CONFIG_DEBUG_INFO_BTF off?): struct readings (timers, tasks) are"
                        + " unavailable; symbols, registers and LAPIC state still work"));
        return new BtfFound(Btf.parse(at.bytes(all)), "guest memory (found in the kernel image)");
    }

    public GuestMemory memory() {
        return memory;
    }

    public QmpClient qmp() {
        return qmp;
    }

    /** Faster backends that were tried and why they were passed over. */
    public List<String> passedOver() {
        return passedOver;
    }

    public KernelImage.Range image() {
        return image;
    }

    /** The symbols in use: kallsyms from guest memory, or the developer's vmlinux or System.map. */
    public SymbolTable symbols() {
        return symbols;
    }

    /** Where the BTF came from (guest memory, the vmlinux's .BTF section, its DWARF through pahole); null without BTF. */
    public String typesFrom() {
        return typesFrom;
    }

    /** Why there is no BTF; null when there is. */
    public String btfProblem() {
        return btfProblem;
    }

    /** The kernel's BTF, or a {@link GuestLayoutException} saying why there is none. */
    public Btf btf() {
        if (btf == null) {
            throw new GuestLayoutException(btfProblem);
        }
        return btf;
    }

    public boolean hasBtf() {
        return btf != null;
    }

    public String version() {
        return version;
    }

    public Timings timings() {
        return timings;
    }

    public int cpuCount() {
        return cpuCount;
    }

    public Modules modules() {
        return modules;
    }

    /** The address of per-CPU variable {@code symbol} on {@code cpu}. */
    public long perCpu(String symbol, int cpu) {
        return dataSymbol(symbol) + perCpuOffset(cpu);
    }

    /** __per_cpu_offset[cpu], read from guest memory on first use. */
    public long perCpuOffset(int cpu) {
        long[] offsets = perCpuOffsets;
        if (offsets == null) {
            long base = dataSymbol("__per_cpu_offset");
            offsets = new long[cpuCount];
            for (int i = 0; i < cpuCount; i++) {
                offsets[i] = memory.readLong(base + 8L * i);
            }
            // Until setup_per_cpu_areas() every entry holds the same boot value: ask again later.
            if (cpuCount == 1 || java.util.Arrays.stream(offsets).distinct().count() > 1) {
                perCpuOffsets = offsets;
            }
        }
        return offsets[cpu];
    }

    /**
     * The address of data symbol {@code name}; missing, a {@link GuestLayoutException} that says
     * why ("jiffies_64: not readable (kallsyms has no data symbols: ...)").
     */
    public long dataSymbol(String name) {
        return dataSymbol(name, name);
    }

    private long dataSymbol(String reading, String name) {
        Optional<Long> a = symbols.addressOf(name);
        if (a.isPresent()) {
            return a.get();
        }
        throw new GuestLayoutException(reading + ": not readable (" + (symbols.hasDataSymbols()
                ? "no symbol '" + name + "' in " + symbols.source() : symbols.textOnly()) + ")");
    }

    /** Reads struct {@code struct} at {@code address} whole. */
    public StructView struct(String struct, long address) {
        int size = btf().struct(struct).size();
        return new StructView(btf(), struct, address, memory.read(address, size), 0);
    }

    /** Reads only the part of struct {@code struct} that holds {@code fields} (those that exist). */
    public StructView structSpan(String struct, long address, List<String> fields) {
        int from = Integer.MAX_VALUE;
        int to = 0;
        for (String f : fields) {
            Optional<BtfField> field = btf().findField(struct, f);
            if (field.isPresent()) {
                from = Math.min(from, field.get().offset());
                to = Math.max(to, field.get().offset() + Math.max(field.get().size(), 9));
            }
        }
        if (from == Integer.MAX_VALUE) {
            throw new GuestLayoutException("BTF struct " + struct + " has none of " + fields);
        }
        return new StructView(btf(), struct, address + from, memory.read(address + from, to - from), from);
    }

    public long jiffies() {
        return memory.readLong(dataSymbol("jiffies", "jiffies_64"));
    }

    /** An address as the kernel's %pS would print it, module-aware; hex when nothing contains it. */
    public String symbolize(long address) {
        Optional<SymbolOffset> s = symbols.lookup(address);
        if (s.isPresent()) {
            return s.get().toString();
        }
        return modules.symbolize(address).orElse("0x" + Long.toHexString(address));
    }

    /** The timer state of every CPU and the global tick, as /proc/timer_list would show it. */
    public TimerView timers() {
        long host = System.nanoTime();
        List<String> unavailable = new ArrayList<>();
        long jiffies = jiffies();
        int doTimer = symbols.addressOf("tick_do_timer_cpu").map(memory::readInt).orElse(Integer.MIN_VALUE);
        if (doTimer == Integer.MIN_VALUE) {
            unavailable.add("tick_do_timer_cpu (symbol missing)");
        }
        long nextPeriod = symbols.addressOf("tick_next_period").map(memory::readLong).orElse(0L);
        long lastUpdate = symbols.addressOf("last_jiffies_update").map(memory::readLong).orElse(0L);
        int hz = symbols.addressOf("tick_nsec").map(memory::readLong).map(ns -> ns > 0 ? (int) Math.round(1e9 / ns) : 0)
                .orElse(0);
        List<CpuTimers> cpus = new ArrayList<>();
        if (btf == null) {
            // Untyped readings (jiffies, the global tick) stand; the per-CPU structs need types.
            unavailable.add("per-CPU timers (" + btfProblem + ")");
        } else {
            for (int cpu = 0; cpu < cpuCount(); cpu++) {
                cpus.add(cpuTimers(cpu, unavailable));
            }
        }
        return new TimerView(host, jiffies, doTimer, nextPeriod, lastUpdate, hz, cpus,
                List.copyOf(new java.util.LinkedHashSet<>(unavailable)));
    }

    private CpuTimers cpuTimers(int cpu, List<String> unavailable) {
        StructView irq = struct("irq_cpustat_t", perCpu("irq_stat", cpu));
        StructView hr = struct("hrtimer_cpu_base", perCpu("hrtimer_bases", cpu));
        StructView ts = struct("tick_sched", perCpu("tick_cpu_sched", cpu));
        StructView td = struct("tick_device", perCpu("tick_cpu_device", cpu));
        String mode = enumLabel("tick_device_mode", td.get("mode"), "TICKDEV_MODE_");
        long evt = td.get("evtdev");
        String clockevent = null;
        String clockState = null;
        Long nextEvent = null;
        if (evt != 0) {
            StructView ced = struct("clock_event_device", evt);
            long name = ced.get("name");
            clockevent = name == 0 ? "?" : memory.readCString(name, 32);
            clockState = enumLabel("clock_event_state", ced.get("state_use_accessors"), "CLOCK_EVT_STATE_");
            nextEvent = ced.get("next_event");
        }
        return new CpuTimers(cpu, irq.get("apic_timer_irqs"), hr.get("expires_next"), hr.get("nr_events"),
                optional(hr.find("hres_active"), "hrtimer_cpu_base.hres_active", unavailable).map(v -> v != 0).orElse(null),
                optional(FlagWord.TICK_SCHED.bit(ts, "tick_stopped", "TS_FLAG_STOPPED"), "tick_sched.tick_stopped",
                        unavailable).orElse(null),
                optional(FlagWord.TICK_SCHED.bit(ts, "idle_active", "TS_FLAG_IDLE_ACTIVE"), "tick_sched.idle_active",
                        unavailable).orElse(null),
                optional(ts.find("next_tick"), "tick_sched.next_tick", unavailable).orElse(null),
                optional(ts.find("idle_jiffies"), "tick_sched.idle_jiffies", unavailable).orElse(null),
                optional(ts.find("idle_calls"), "tick_sched.idle_calls", unavailable).orElse(null),
                optional(ts.find("idle_sleeps"), "tick_sched.idle_sleeps", unavailable).orElse(null),
                mode, clockevent, clockState, nextEvent, currentTask(cpu, unavailable));
    }

    private static <T> Optional<T> optional(Optional<T> value, String name, List<String> unavailable) {
        if (value.isEmpty()) {
            unavailable.add(name);
        }
        return value;
    }

    private String enumLabel(String enumName, long value, String prefix) {
        return btf().enumName(enumName, value)
                .map(n -> n.startsWith(prefix) ? n.substring(prefix.length()) : n)
                .map(n -> n.toLowerCase(Locale.ROOT).replace('_', '-'))
                .orElse(Long.toString(value));
    }

    /** The task running on {@code cpu}: per-CPU current_task up to 6.1, pcpu_hot.current_task after. */
    public CpuTimers.TaskRef currentTask(int cpu, List<String> unavailable) {
        long task;
        if (symbols.addressOf("current_task").isPresent()) {
            task = memory.readLong(perCpu("current_task", cpu));
        } else if (symbols.addressOf("pcpu_hot").isPresent() && btf().findField("pcpu_hot", "current_task").isPresent()) {
            task = memory.readLong(perCpu("pcpu_hot", cpu) + btf().field("pcpu_hot", "current_task").offset());
        } else {
            unavailable.add("current task (neither current_task nor pcpu_hot.current_task)");
            return null;
        }
        StructView t = structSpan("task_struct", task, List.of("pid", "comm"));
        return new CpuTimers.TaskRef(task, (int) t.get("pid"), t.chars("comm"));
    }

    /**
     * Every task (threads included), walking init_task's list. For tasks in D state, how long they
     * have been off CPU, measured against the newest run-queue clock (the same clock as
     * sched_info.last_arrival).
     */
    public List<TaskInfo> tasks() {
        List<String> fields = List.of("pid", "comm", "__state", "state", "exit_state", "flags", "nvcsw", "nivcsw",
                "tasks", "thread_group", "sched_info.last_arrival", "thread_info.cpu", "cpu");
        long initTask = dataSymbol("init_task");
        long tasksOffset = btf().field("task_struct", "tasks").offset();
        Optional<Long> threadGroupOffset = btf().findField("task_struct", "thread_group").map(f -> (long) f.offset());
        long now = runQueueClock();
        List<TaskInfo> out = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        long process = memory.readLong(initTask + tasksOffset) - tasksOffset;
        while (process != initTask) {
            if (!seen.add(process) || out.size() > MAX_TASKS) {
                throw new GuestLayoutException("task list loops or is corrupt at task 0x" + Long.toHexString(process));
            }
            out.add(task(process, fields, now));
            if (threadGroupOffset.isPresent()) {
                long off = threadGroupOffset.get();
                long thread = memory.readLong(process + off) - off;
                while (thread != process && seen.add(thread) && out.size() <= MAX_TASKS) {
                    out.add(task(thread, fields, now));
                    thread = memory.readLong(thread + off) - off;
                }
            }
            process = memory.readLong(process + tasksOffset) - tasksOffset;
        }
        return out;
    }

    private TaskInfo task(long address, List<String> fields, long now) {
        StructView t = structSpan("task_struct", address, fields);
        long state = t.find("__state").or(() -> t.find("state")).orElseThrow(
                () -> new GuestLayoutException("task_struct has neither __state nor state"));
        long exitState = t.find("exit_state").orElse(0L);
        long report = (state | exitState) & TASK_REPORT;
        char letter;
        if (state == (TASK_UNINTERRUPTIBLE | TASK_NOLOAD)) {
            letter = 'I';
        } else {
            int bit = report == 0 ? 0 : 64 - Long.numberOfLeadingZeros(report);
            letter = STATE_LETTERS.charAt(Math.min(bit, STATE_LETTERS.length() - 1));
        }
        Long lastArrival = t.find("sched_info.last_arrival").orElse(null);
        Long blocked = letter == 'D' && lastArrival != null && now > 0 ? Math.max(0, now - lastArrival) : null;
        int cpu = t.find("thread_info.cpu").or(() -> t.find("cpu")).orElse(-1L).intValue();
        return new TaskInfo(address, (int) t.get("pid"), t.chars("comm"), letter, state, cpu,
                (t.get("flags") & PF_KTHREAD) != 0, t.get("nvcsw") + t.get("nivcsw"), lastArrival, blocked);
    }

    /** The newest per-CPU run-queue clock (ns), 0 if it cannot be read. */
    private long runQueueClock() {
        if (symbols.addressOf("runqueues").isEmpty() || btf().findField("rq", "clock").isEmpty()) {
            return 0;
        }
        long offset = btf().field("rq", "clock").offset();
        long newest = 0;
        for (int cpu = 0; cpu < cpuCount(); cpu++) {
            try {
                newest = Math.max(newest, memory.readLong(perCpu("runqueues", cpu) + offset));
            } catch (GuestMemoryException e) {
                // A CPU not brought up has no run queue worth reading.
            }
        }
        return newest;
    }

    @Override
    public void close() {
        memory.close();
    }
}
