// How the master ends a sweep: stop signals and the deadline (a drain), a second signal or an
// overrun drain (the job aborted with the file saved), then Stop to every worker, their Byes,
// and the exit code with the messages that explain it.
#include <cstdlib>
#include <sstream>

#include "runtime/master.hpp"

namespace mpisweep {

void Master::check_stop() {
    const Seconds now = transport_.now();
    if (options_.handle_signals) {
        const int sig = signals_.signal();
        if (sig != 0) on_signal(sig, 0, signals_.urgent(), now);
    }
    if (phase_ == Phase::Running && stop_reason_ == StopReason::None && stop_by_ && now >= *stop_by_)
        begin_drain(StopReason::Deadline, now);
    // A full disk under the file or its journal: nothing more can be written but to the
    // journal's reserve, so stop as for a signal (the results in flight still count).
    if (phase_ == Phase::Running && stop_reason_ == StopReason::None && store_.write_failure() != nullptr)
        begin_drain(StopReason::Storage, now);
    if (urgent_ && phase_ != Phase::Over) abort_interrupted("a second signal: stopped at once");
}

void Master::on_signal(int sig, int rank, bool urgent, Seconds now) {
    if (stop_signal_ == 0) {
        stop_signal_ = sig;
        signal_rank_ = rank;
        if (stop_reason_ == StopReason::None && phase_ == Phase::Running)
            begin_drain(StopReason::Signal, now);
    }
    if (urgent) urgent_ = true;
}

void Master::begin_drain(StopReason reason, Seconds now) {
    stop_reason_ = reason;
    drain_until_ = now + options_.drain_grace.count();
    const std::vector<Cancellation> cancels = scheduler_.drain();
    // Drain first: a copy that finishes anyway keeps its result.
    for (int rank = first_worker_rank(); rank < static_cast<int>(workers_.size()); ++rank) {
        if (!workers_[static_cast<std::size_t>(rank)].lost) transport_.send(rank, Tag::Drain);
    }
    send_cancels(cancels);
}

void Master::end_running() {
    // Results first: a copy that does not poll cancelled() may keep its worker busy a while.
    store_.flush();
    for (int rank = first_worker_rank(); rank < static_cast<int>(workers_.size()); ++rank) {
        if (!workers_[static_cast<std::size_t>(rank)].lost) transport_.send(rank, Tag::Stop);
    }
    phase_ = Phase::Stopping;
}

void Master::step_stopping() {
    if (options_.handle_signals && signals_.urgent()) abort_interrupted("a second signal: stopped at once");
    // Until every worker said Bye: results still in flight are late copies of settled tasks,
    // and a worker must not be left blocked in a send.
    while (byes_awaited() > 0) {
        const std::optional<Envelope> envelope = transport_.probe(kAnySource);
        if (!envelope) {
            backlog_ = false;
            check_heartbeats(transport_.now());
            if (byes_awaited() > 0) return;
            break;
        }
        WorkerSlot& slot = workers_[static_cast<std::size_t>(envelope->source)];
        slot.last_heard = transport_.now();
        if (slot.lost) {
            drop_from_lost(*envelope);
            continue;
        }
        switch (static_cast<Tag>(envelope->tag)) {
            case Tag::Bye:
                transport_.receive(*envelope);
                slot.said_bye = true;
                ++byes_;
                break;
            case Tag::Interrupt: {
                InterruptNotice late;  // the sweep is ending anyway
                transport_.receive(*envelope, late);
                break;
            }
            case Tag::Heartbeat:
                transport_.receive(*envelope);
                break;
            case Tag::Gpu: {
                GpuMemoryReport late;  // nothing more is placed
                transport_.receive(*envelope, late);
                break;
            }
            default: {
                ReportBatch late;
                transport_.receive(*envelope, late);
                break;
            }
        }
    }
    if (lost_ > 0) abort_without_lost();  // no flush: a send to a lost rank may never complete
    transport_.flush();
    conclude();
    phase_ = Phase::Over;
}

int Master::byes_awaited() const {
    return static_cast<int>(workers_.size()) - first_worker_rank() - byes_ - lost_;
}

void Master::abort_without_lost() {
    conclude();
    signals_.closing();
    try {
        store_.flush();
        store_.close();
    } catch (const std::exception& e) {
        notify_.message(MessageLevel::Error, std::string("saving the results file failed: ") + e.what());
        exit_code_ = kExitError;
    }
    std::string ranks;
    for (int rank = first_worker_rank(); rank < static_cast<int>(workers_.size()); ++rank) {
        if (workers_[static_cast<std::size_t>(rank)].lost)
            ranks += (ranks.empty() ? "" : ", ") + std::to_string(rank);
    }
    notify_.message(MessageLevel::Warning,
                    "the results file is closed; ending the job with MPI_Abort(" +
                        std::to_string(exit_code_) + ") because lost rank(s) " + ranks +
                        " cannot take part in its normal end (teardown hooks do not run)");
    notify_.end(scheduler_.counts(), exit_code_);
    transport_.abort(exit_code_);
    std::_Exit(exit_code_);  // abort() does not return; this keeps [[noreturn]] honest
}

void Master::conclude() {
    const SweepCounts counts = scheduler_.counts();
    report_progress(transport_.now(), true);
    if (gpus_ != nullptr && !gpus_->summary().empty())
        notify_.message(MessageLevel::Notice, gpus_->summary());
    if (stop_reason_ == StopReason::None && !scheduler_.finished() && scheduler_.deadline_reached()) {
        stop_reason_ = StopReason::Deadline;
    }
    if (store_.write_failure() != nullptr) {
        // Even with every task settled: the file is not complete until --resume writes it.
        stop_reason_ = StopReason::Storage;
        report_stop(nullptr);
        exit_code_ = kExitInterrupted;
    } else if (stop_reason_ != StopReason::None && !scheduler_.finished()) {
        report_stop(nullptr);
        exit_code_ = kExitInterrupted;
    } else if (!scheduler_.finished() && (infrastructure_retired_ > 0 || lost_ > 0)) {
        notify_.message(MessageLevel::Error,
                        std::to_string(counts.total - counts.done - counts.failed) +
                            " task(s) left pending: the workers stopped on the errors above (not the tasks')"
                            " or were lost; fix them, then run the same command again with --resume");
        exit_code_ = kExitInterrupted;
    } else if (!scheduler_.finished()) {
        notify_.message(MessageLevel::Error,
                        std::to_string(counts.total - counts.done - counts.failed) +
                            " task(s) left pending: no worker can take them (setup failed, or too many"
                            " failures in a row); fix the cause and run again with --resume");
        exit_code_ = kExitStalled;
    } else {
        exit_code_ = counts.failed > 0 ? kExitTasksFailed : kExitOk;
    }
}

void Master::report_stop(const char* how) const {
    const SweepCounts counts = scheduler_.counts();
    std::ostringstream line;
    if (const StoreWriteError* failure = store_.write_failure()) {
        // One line for a full disk under the file or journal, whatever else stopped the sweep.
        line << failure->what() << ": stopped";
        if (how != nullptr) line << ", then " << how;
        line << ": " << counts.done << " done, ";
        if (counts.failed > 0) line << counts.failed << " failed, ";
        line << cancelled_running_ << " cancelled and " << (counts.total - counts.done - counts.failed)
             << " left pending";
        if (const std::uint64_t lost = store_.unjournaled(); lost > 0)
            line << " (" << lost << " result(s) the journal could not take: their tasks run again)";
        line << "; free space, then run the same command again with --resume";
        notify_.message(MessageLevel::Error, line.str());
        return;
    }
    if (stop_reason_ == StopReason::Deadline) {
        line << "stopped before the deadline (--deadline less " << options_.deadline_margin.count()
             << " s of --deadline-margin)";
    } else {
        line << "interrupted by " << detail::signal_name(stop_signal_);
        if (signal_rank_ > 0) line << " (on rank " << signal_rank_ << ")";
    }
    if (how != nullptr) line << ", then " << how;
    line << ": " << counts.done << " done, ";
    if (counts.failed > 0) line << counts.failed << " failed, ";
    line << cancelled_running_ << " cancelled and " << (counts.total - counts.done - counts.failed)
         << " left pending; run the same command again with --resume";
    notify_.message(MessageLevel::Error, line.str());
}

void Master::abort_interrupted(const char* how) {
    signals_.closing();  // the watchdog gives us time to save the file
    try {
        store_.flush();
        store_.close();
    } catch (const std::exception& e) {
        notify_.message(MessageLevel::Error, std::string("saving the results file failed: ") + e.what());
    }
    report_stop(how);
    detail::hold_after_signal();  // mpirun must still be passing signals on when the job ends
    transport_.abort(kExitInterrupted);
    std::_Exit(kExitInterrupted);  // abort() does not return; this keeps [[noreturn]] honest
}

}  // namespace mpisweep
