/**
 * {@code tickwatch bisect} (issue 16): real {@code git bisect} in the developer's tree, each step
 * built and booted with the boot-loop engine, the boots per good step planned from a measured
 * hang rate so that the whole bisection's chance of a wrong good verdict stays under a stated
 * risk, the culprit checked, all of it resumable. Depends on {@code boot} (loop, stats),
 * {@code qemu} and {@code guest} only; the command lives in {@code cli}.
 */
package dev.tickwatch.bisect;
