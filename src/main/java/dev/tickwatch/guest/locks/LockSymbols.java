package dev.tickwatch.guest.locks;

import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.sym.SymbolOffset;
import java.util.Optional;

/**
 * Names for the lock graph: a lock's data symbol, and the functions on a blocked task's stack
 * (which lock primitive it sleeps in, and where, when it is not a lock).
 */
public interface LockSymbols {

    /** {@code name}, {@code name+0xoff}, with {@code [module]} for module data; empty for the heap. */
    Optional<String> data(long address);

    /** The bare name of the function containing a text address ({@code __mutex_lock.constprop.0}); empty if none. */
    Optional<String> function(long address);

    /** No names: locks by address, kinds by the locks' own flags. */
    LockSymbols NONE = new LockSymbols() {
        @Override
        public Optional<String> data(long address) {
            return Optional.empty();
        }

        @Override
        public Optional<String> function(long address) {
            return Optional.empty();
        }
    };

    /** The kernel's symbols (kallsyms or the developer's files), and the modules' own for module data. */
    static LockSymbols of(GuestKernel k) {
        ModuleObjects modules = new ModuleObjects(k);
        return new LockSymbols() {
            @Override
            public Optional<String> data(long address) {
                Optional<SymbolOffset> s = k.symbols().lookup(address);
                if (s.isPresent() && !k.symbols().isKernelText(address)) {
                    return Optional.of(s.get().symbol().name() + (s.get().offset() == 0 ? ""
                            : "+0x" + Long.toHexString(s.get().offset())));
                }
                return modules.objectAt(address);
            }

            @Override
            public Optional<String> function(long address) {
                if (!k.symbols().isKernelText(address)) {
                    return Optional.empty();
                }
                return k.symbols().lookup(address).map(s -> s.symbol().name());
            }
        };
    }
}
