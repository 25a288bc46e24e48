// SPDX-License-Identifier: GPL-2.0
/*
 * tickwatch hang lab: make a running kernel hang in a chosen, deterministic way,
 * so that tickwatch can be tested against real hangs seen from outside (QMP).
 *
 *   insmod tickwatch_lab.ko mode=MODE [delay_ms=200] [cpu=N] [storm_us=1000]
 *
 * Modes: timer-stall-lost, timer-stall-storm, spin-deadlock, spin-one,
 *        sleep-deadlock, soft-lockup, panic, flaky.  See README.md.
 *
 *   insmod tickwatch_lab.ko mode=flaky p_permille=N
 *
 * flaky: with probability N/1000, drawn in the guest at insmod, the boot hangs as
 * timer-stall-lost (and insmod never returns); otherwise insmod returns and the boot goes on.
 *
 * The module can never be unloaded (no exit function): several modes leave
 * kernel function pointers aimed at this module's text.
 */
#define pr_fmt(fmt) "tickwatch-lab: " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/workqueue.h>
#include <linux/smp.h>
#include <linux/cpumask.h>
#include <linux/irq.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/clockchips.h>
#include <linux/hrtimer.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/random.h>
#include <asm/apic.h>
#include <asm/msr.h>

MODULE_LICENSE("GPL");
MODULE_AUTHOR("tickwatch");
MODULE_DESCRIPTION("tickwatch hang lab: induce deterministic kernel hangs");

static char *mode = "";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "timer-stall-lost|timer-stall-storm|spin-deadlock|spin-one|sleep-deadlock|soft-lockup|panic|flaky");
static unsigned int delay_ms = 200;
module_param(delay_ms, uint, 0444);
MODULE_PARM_DESC(delay_ms, "wait this long after insmod before inducing (default 200)");
static int cpu = -1;
module_param(cpu, int, 0444);
MODULE_PARM_DESC(cpu, "CPU for spin-one/soft-lockup (default: last online CPU)");
static unsigned int storm_us = 1000;
module_param(storm_us, uint, 0444);
MODULE_PARM_DESC(storm_us, "timer-stall-storm: interrupt period in microseconds (default 1000)");
static unsigned int p_permille;
module_param(p_permille, uint, 0444);
MODULE_PARM_DESC(p_permille, "flaky: chance of a hang per boot, in 1/1000 (0-1000, default 0)");

/* Same layout as kernel/time/tick-sched.h (not exported in headers). */
struct lab_tick_device {
	struct clock_event_device *evtdev;
	int mode;
};

/* ------------------------------------------------------------------ */
/* kallsyms_lookup_name is not exported since 5.7: the kprobe trick.   */

typedef unsigned long (*lookup_fn)(const char *name);
static lookup_fn lab_lookup;

static int lab_find_lookup(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	int ret = register_kprobe(&kp);

	if (ret < 0) {
		pr_err("cannot find kallsyms_lookup_name via kprobe: %d\n", ret);
		return ret;
	}
	lab_lookup = (lookup_fn)kp.addr;
	unregister_kprobe(&kp);
	return 0;
}

/*
 * A kernel built without KALLSYMS_ALL (defconfig trimmed, as bisections build them) has no data
 * symbols in kallsyms. The host then passes them from the kernel's System.map: a per-CPU
 * variable as its per-CPU offset (KASLR does not move those), a global as its distance from
 * _text (which kallsyms does have).
 */
static unsigned long tick_cpu_device_pcpu;
module_param(tick_cpu_device_pcpu, ulong, 0444);
MODULE_PARM_DESC(tick_cpu_device_pcpu, "per-CPU offset of tick_cpu_device (System.map), for kernels without KALLSYMS_ALL");
static unsigned long tick_next_period_off;
module_param(tick_next_period_off, ulong, 0444);
MODULE_PARM_DESC(tick_next_period_off, "tick_next_period - _text (System.map), for kernels without KALLSYMS_ALL");
static unsigned long rcu_cpu_stall_suppress_off;
module_param(rcu_cpu_stall_suppress_off, ulong, 0444);
MODULE_PARM_DESC(rcu_cpu_stall_suppress_off, "rcu_cpu_stall_suppress - _text (System.map), for kernels without KALLSYMS_ALL");

static void *lab_sym(const char *name)
{
	void *p = lab_lookup ? (void *)lab_lookup(name) : NULL;
	unsigned long off = 0;
	char *text;

	if (!p && !strcmp(name, "tick_cpu_device") && tick_cpu_device_pcpu)
		return (void *)tick_cpu_device_pcpu;
	if (!p && !strcmp(name, "tick_next_period"))
		off = tick_next_period_off;
	if (!p && !strcmp(name, "rcu_cpu_stall_suppress"))
		off = rcu_cpu_stall_suppress_off;
	if (!p && off && lab_lookup) {
		text = (char *)lab_lookup("_text");
		if (text)
			p = text + off;
	}
	if (!p)
		pr_err("symbol %s not found\n", name);
	return p;
}

/* ------------------------------------------------------------------ */
/* Timer stalls: hijack the per-CPU tick clockevent device.            */

static struct lab_tick_device __percpu *lab_tick_cpu_device;
static ktime_t *lab_tick_next_period;
static DEFINE_PER_CPU(int (*)(unsigned long, struct clock_event_device *), orig_next_event);
static unsigned long storm_cycles;	/* computed on CPU 0's device; all LAPICs alike */
static atomic_t lab_cpus_done = ATOMIC_INIT(0);

static int lab_noop_next_event(unsigned long delta, struct clock_event_device *dev)
{
	return 0;		/* "armed", says the kernel; nothing armed, says the LAPIC */
}

static int lab_noop_next_ktime(ktime_t expires, struct clock_event_device *dev)
{
	return 0;
}

static int lab_noop_state(struct clock_event_device *dev)
{
	return 0;		/* keep the hardware as it is (LVTT not masked) */
}

/*
 * This CPU's local APIC, read and written directly: apic_read()/apic_write() are static calls
 * that 6.x kernels do not export to modules. x2APIC through MSRs, xAPIC through its MMIO page.
 */
static bool lab_x2apic(void)
{
	u64 base;

	rdmsrl(MSR_IA32_APICBASE, base);
	return base & X2APIC_ENABLE;
}

/* x2APIC registers are MSRs 0x800 + (xAPIC offset >> 4); spelled out, as kernels built without
 * CONFIG_X86_X2APIC (defconfig) have no native_apic_msr_*() helpers. */
static u32 lab_apic_read(u32 reg)
{
	u64 v;

	if (!lab_x2apic())
		return native_apic_mem_read(reg);
	rdmsrl(APIC_BASE_MSR + (reg >> 4), v);
	return (u32)v;
}

static void lab_apic_write(u32 reg, u32 v)
{
	if (lab_x2apic())
		wrmsrl(APIC_BASE_MSR + (reg >> 4), v);
	else
		native_apic_mem_write(reg, v);
}

/* Stop whatever the LAPIC timer has armed right now, on this CPU. */
static void lab_cancel_lapic_timer(void)
{
	if (lab_apic_read(APIC_LVTT) & APIC_LVT_TIMER_TSCDEADLINE)
		wrmsrl(MSR_IA32_TSC_DEADLINE, 0);
	lab_apic_write(APIC_TMICT, 0);
}

static void lab_lost_on_cpu(void *unused)
{
	struct lab_tick_device *td = this_cpu_ptr(lab_tick_cpu_device);
	struct clock_event_device *dev = td->evtdev;

	if (dev) {
		dev->set_next_event = lab_noop_next_event;
		if (dev->set_next_ktime)
			dev->set_next_ktime = lab_noop_next_ktime;
		dev->set_state_oneshot_stopped = lab_noop_state;
	}
	lab_cancel_lapic_timer();
	atomic_inc(&lab_cpus_done);
}

/* Storm: keep the device firing every storm_us, never run the tick. */
static void lab_storm_handler(struct clock_event_device *dev)
{
	__this_cpu_read(orig_next_event)(storm_cycles, dev);
}

static int lab_storm_next_event(unsigned long delta, struct clock_event_device *dev)
{
	/* Whatever the kernel asks for, the hardware fires storm_us from now. */
	return __this_cpu_read(orig_next_event)(storm_cycles, dev);
}

static void lab_storm_on_cpu(void *unused)
{
	struct lab_tick_device *td = this_cpu_ptr(lab_tick_cpu_device);
	struct clock_event_device *dev = td->evtdev;

	if (!dev || !dev->set_next_event)
		return;
	__this_cpu_write(orig_next_event, dev->set_next_event);
	dev->set_state_oneshot_stopped = lab_noop_state;
	dev->set_next_event = lab_storm_next_event;
	dev->event_handler = lab_storm_handler;
	__this_cpu_read(orig_next_event)(storm_cycles, dev);
	atomic_inc(&lab_cpus_done);
}

static int lab_timer_prepare(void)
{
	lab_tick_cpu_device = lab_sym("tick_cpu_device");
	lab_tick_next_period = lab_sym("tick_next_period");
	if (!lab_tick_cpu_device || !lab_tick_next_period)
		return -ENOENT;
	return 0;
}

static void lab_timer_stall(bool storm)
{
	struct clock_event_device *dev = per_cpu_ptr(lab_tick_cpu_device, 0)->evtdev;

	if (storm && dev) {
		u64 c = ((u64)storm_us * NSEC_PER_USEC * dev->mult) >> dev->shift;

		c = clamp_t(u64, c, dev->min_delta_ticks, dev->max_delta_ticks);
		storm_cycles = c;
	}
	pr_emerg("inducing %s (clockevent %s, %s mode, %u cpus)\n", mode,
		 dev ? dev->name : "?",
		 (lab_apic_read(APIC_LVTT) & APIC_LVT_TIMER_TSCDEADLINE) ? "TSC-deadline" : "one-shot",
		 num_online_cpus());
	/*
	 * jiffies are advanced only by tick_do_update_jiffies64(), which returns
	 * at once while now < tick_next_period.  Without this, an interrupt that
	 * wakes an idle CPU whose tick is stopped catches jiffies up
	 * (tick_nohz_update_jiffies()).  Freeze them for good.
	 */
	WRITE_ONCE(*lab_tick_next_period, KTIME_MAX);
	on_each_cpu(storm ? lab_storm_on_cpu : lab_lost_on_cpu, NULL, 1);
	pr_emerg("induced %s on %d cpus: jiffies_64 frozen at %llu\n", mode,
		 atomic_read(&lab_cpus_done), (unsigned long long)get_jiffies_64());
}

/* ------------------------------------------------------------------ */
/* Spin modes.                                                          */

/*
 * Raw spinlocks: on PREEMPT_RT a spinlock_t is a sleeping rt_mutex, and taking one with IRQs
 * off is a bug, not a spin. A raw_spinlock_t spins on every kernel, as these modes need.
 */
static DEFINE_RAW_SPINLOCK(lab_lock_a);
static DEFINE_RAW_SPINLOCK(lab_lock_b);
static atomic_t lab_holders = ATOMIC_INIT(0);

static int lab_abba_thread(void *arg)
{
	long role = (long)arg;	/* 0: A then B; 1: B then A; 2+: just A */

	local_irq_disable();
	if (role == 0) {
		raw_spin_lock(&lab_lock_a);
		atomic_inc(&lab_holders);
		while (atomic_read(&lab_holders) < 2)
			cpu_relax();
		raw_spin_lock(&lab_lock_b);
	} else if (role == 1) {
		raw_spin_lock(&lab_lock_b);
		atomic_inc(&lab_holders);
		while (atomic_read(&lab_holders) < 2)
			cpu_relax();
		raw_spin_lock(&lab_lock_a);
	} else {
		while (atomic_read(&lab_holders) < 2)
			cpu_relax();
		raw_spin_lock(&lab_lock_a);
	}
	for (;;)		/* never reached */
		cpu_relax();
	return 0;
}

static int lab_spin_thread(void *arg)
{
	bool irqs_on = (long)arg;

	if (irqs_on) {
		preempt_disable();	/* soft-lockup: IRQs on, never schedules */
		for (;;)
			cpu_relax();
	}
	local_irq_disable();
	for (;;)
		cpu_relax();
	return 0;
}

static int lab_start_on(int (*fn)(void *), void *arg, int c, const char *name)
{
	struct task_struct *t = kthread_create(fn, arg, "%s/%d", name, c);

	if (IS_ERR(t))
		return PTR_ERR(t);
	kthread_bind(t, c);
	wake_up_process(t);
	return 0;
}

/*
 * The CPU for spin-one and soft-lockup: the last online CPU that does not take the keyboard's
 * interrupt (IRQ 1), so a sysrq key press (the kernel's own backtraces) still reaches a CPU with
 * interrupts on; an IO-APIC interrupt moves only when it next fires on its old CPU, so setting
 * its affinity from the guest is not enough. Any CPU when the keyboard has none or every one.
 */
static int lab_target_cpu(void)
{
	int c = cpu, last = -1, any = 0, i;
	struct irq_data *kbd = irq_get_irq_data(1);
	const struct cpumask *kbd_cpus = kbd ? irq_data_get_effective_affinity_mask(kbd) : NULL;

	for_each_online_cpu(i) {
		any = i;
		if (!kbd_cpus || cpumask_empty(kbd_cpus) || !cpumask_test_cpu(i, kbd_cpus))
			last = i;
	}
	if (c < 0 || !cpu_online(c))
		c = last >= 0 ? last : any;
	return c;
}

static void lab_spin_deadlock(void)
{
	struct task_struct **t;
	int n = 0, i;

	pr_emerg("inducing %s (%u cpus)\n", mode, num_online_cpus());
	if (num_online_cpus() == 1) {
		/* one CPU: deadlock on itself (A twice) with IRQs off */
		local_irq_disable();
		raw_spin_lock(&lab_lock_a);
		raw_spin_lock(&lab_lock_a);
		return;
	}
	/*
	 * Create every thread before waking any: once one CPU spins with IRQs
	 * off, kthreadd (or an IPI) may need that CPU and creation would stall.
	 */
	t = kcalloc(nr_cpu_ids, sizeof(*t), GFP_KERNEL);
	if (!t)
		return;
	for_each_online_cpu(i) {
		t[i] = kthread_create(lab_abba_thread, (void *)(long)(n < 2 ? n : 2),
				      "lab-abba/%d", i);
		if (IS_ERR(t[i])) {
			t[i] = NULL;
			continue;
		}
		kthread_bind(t[i], i);
		n++;
	}
	for_each_online_cpu(i)
		if (t[i])
			wake_up_process(t[i]);
}

/* ------------------------------------------------------------------ */
/* Sleep deadlock: two kthreads ABBA on mutexes, then insmod blocks.    */

static DEFINE_MUTEX(lab_mutex_a);
static DEFINE_MUTEX(lab_mutex_b);
static DECLARE_COMPLETION(lab_have_a);
static DECLARE_COMPLETION(lab_have_b);

static int lab_mutex_thread(void *arg)
{
	if ((long)arg == 0) {
		mutex_lock(&lab_mutex_a);
		complete_all(&lab_have_a);
		wait_for_completion(&lab_have_b);
		mutex_lock(&lab_mutex_b);
	} else {
		mutex_lock(&lab_mutex_b);
		complete_all(&lab_have_b);
		wait_for_completion(&lab_have_a);
		mutex_lock(&lab_mutex_a);
	}
	return 0;		/* never reached */
}

/* ------------------------------------------------------------------ */

enum lab_mode { M_LOST, M_STORM, M_SPIN_DEADLOCK, M_SPIN_ONE, M_SLEEP_DEADLOCK,
		M_SOFT_LOCKUP, M_PANIC, M_FLAKY };
static const char * const lab_modes[] = {
	[M_LOST] = "timer-stall-lost", [M_STORM] = "timer-stall-storm",
	[M_SPIN_DEADLOCK] = "spin-deadlock", [M_SPIN_ONE] = "spin-one",
	[M_SLEEP_DEADLOCK] = "sleep-deadlock", [M_SOFT_LOCKUP] = "soft-lockup",
	[M_PANIC] = "panic", [M_FLAKY] = "flaky",
};
static int lab_mode_id = -1;

static void lab_induce(struct work_struct *w)
{
	int c;

	switch (lab_mode_id) {
	case M_LOST:
		lab_timer_stall(false);
		break;
	case M_STORM:
		lab_timer_stall(true);
		break;
	case M_SPIN_DEADLOCK:
		lab_spin_deadlock();
		break;
	case M_SPIN_ONE:
		c = lab_target_cpu();
		pr_emerg("inducing %s on CPU %d (IRQs off)\n", mode, c);
		lab_start_on(lab_spin_thread, (void *)0L, c, "lab-spin");
		break;
	case M_SOFT_LOCKUP:
		c = lab_target_cpu();
		pr_emerg("inducing %s on CPU %d (preemption off, IRQs on)\n", mode, c);
		lab_start_on(lab_spin_thread, (void *)1L, c, "lab-softlockup");
		break;
	case M_PANIC:
		pr_emerg("inducing %s\n", mode);
		panic("tickwatch-lab: induced panic (mode=panic)");
		break;
	}
}
static DECLARE_DELAYED_WORK(lab_work, lab_induce);

/*
 * flaky: the draw is made here, in the guest, so that the host cannot know it in advance and
 * every boot is an independent trial. A clean draw returns at once and the boot goes on. A hang
 * is timer-stall-lost induced synchronously, then insmod waits forever, so that the init can
 * never reach its done line (with the timers gone, a shell that needs no timer still could).
 */
static DECLARE_COMPLETION(lab_never);

static int lab_flaky(void)
{
	u32 draw = get_random_u32() % 1000;
	int ret;

	if (p_permille > 1000) {
		pr_err("p_permille=%u (expected: 0-1000)\n", p_permille);
		return -EINVAL;
	}
	if (draw >= p_permille) {
		pr_info("flaky: draw %u >= p_permille %u: no hang this boot\n", draw, p_permille);
		return 0;
	}
	ret = lab_find_lookup();
	if (!ret)
		ret = lab_timer_prepare();
	if (ret)
		return ret;
	pr_emerg("flaky: draw %u < p_permille %u: hanging as timer-stall-lost in %u ms\n", draw,
		 p_permille, delay_ms);
	msleep(delay_ms);
	mode = (char *)lab_modes[M_LOST];
	lab_timer_stall(false);
	wait_for_completion(&lab_never);	/* never completed: D state until the VM is ended */
	return 0;
}

static int __init lab_init(void)
{
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(lab_modes); i++)
		if (mode && sysfs_streq(mode, lab_modes[i]))
			lab_mode_id = i;
	if (lab_mode_id < 0) {
		pr_err("unknown mode '%s' (want one of: timer-stall-lost timer-stall-storm spin-deadlock spin-one sleep-deadlock soft-lockup panic flaky)\n",
		       mode ? mode : "");
		return -EINVAL;
	}
	mode = (char *)lab_modes[lab_mode_id];	/* normalized (no trailing newline) */

	if (lab_mode_id == M_FLAKY)
		return lab_flaky();

	if (lab_mode_id == M_SOFT_LOCKUP && !lab_find_lookup()) {
		/*
		 * The loop also stalls RCU: its warning (21 s) would race the
		 * soft-lockup report (20 s + up to 4 s) and, through
		 * touch_nmi_watchdog(), push that report back to ~50 s.
		 * Silence RCU stall warnings so the soft lockup is what shows.
		 */
		int *suppress = lab_sym("rcu_cpu_stall_suppress");

		if (suppress) {
			WRITE_ONCE(*suppress, 1);
			pr_info("RCU stall warnings suppressed (rcu_cpu_stall_suppress=1)\n");
		}
	}
	if (lab_mode_id == M_LOST || lab_mode_id == M_STORM) {
		ret = lab_find_lookup();
		if (!ret)
			ret = lab_timer_prepare();
		if (ret)
			return ret;
	}
	pr_emerg("loaded: mode=%s delay_ms=%u, inducing in %u ms\n", mode, delay_ms, delay_ms);

	if (lab_mode_id == M_SLEEP_DEADLOCK) {
		/* insmod itself must never return: do it here, in init. */
		msleep(delay_ms);
		pr_emerg("inducing %s (insmod will block)\n", mode);
		lab_start_on(lab_mutex_thread, (void *)0L, cpumask_first(cpu_online_mask), "lab-mutex-ab");
		lab_start_on(lab_mutex_thread, (void *)1L, lab_target_cpu(), "lab-mutex-ba");
		wait_for_completion(&lab_have_a);
		wait_for_completion(&lab_have_b);
		mutex_lock(&lab_mutex_a);	/* blocks forever, D state */
		return 0;
	}
	schedule_delayed_work(&lab_work, msecs_to_jiffies(delay_ms));
	return 0;
}
module_init(lab_init);
