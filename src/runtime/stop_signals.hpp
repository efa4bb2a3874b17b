#pragma once
// Where the master and worker loops learn of stop signals: this process's handlers
// (platform/interrupt.hpp) in a run, flags of their own per rank in unit tests.
#include "platform/interrupt.hpp"

namespace mpisweep {

class StopSignals {
public:
    virtual ~StopSignals() = default;
    /// The first stop signal received (0: none).
    virtual int signal() const { return detail::interrupt_signal(); }
    /// A second one: stop at once.
    virtual bool urgent() const { return detail::interrupt_urgent(); }
    /// The results are being saved after an urgent stop (the watchdog waits longer).
    virtual void closing() const { detail::interrupt_closing(); }

    /// The process's signals.
    static const StopSignals& process() {
        static const StopSignals signals;
        return signals;
    }
};

}  // namespace mpisweep
