#include "python/observer.hpp"

#include "python/session.hpp"

namespace mpisweep::python {

bool PythonObserver::wants_results() const {
    return session_->wants_results();
}

void PythonObserver::on_result(TaskId task, const Point& params, const TaskResult& result) {
    if (failed_) return;
    std::string error = session_->on_result(task, params, result);
    if (error.empty()) return;
    failed_ = true;
    on_message(MessageLevel::Warning,
               "on_result raised " + error + "\n(it is not called again; the sweep goes on)");
}

}  // namespace mpisweep::python
