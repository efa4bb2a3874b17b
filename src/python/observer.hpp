#pragma once
// The observer of a Python sweep: prints what the mpisweep command prints (a StderrObserver),
// and passes each accepted result to the script's on_result on rank 0.
#include <memory>

#include "mpisweep/observer.hpp"

namespace mpisweep::python {

class Session;

class PythonObserver : public StderrObserver {
public:
    explicit PythonObserver(std::shared_ptr<Session> session) : session_(std::move(session)) {}

    bool wants_results() const override;
    /// Calls on_result(task_id, params, result). If it raises, the traceback is reported once
    /// as a warning and it is not called again: the sweep goes on.
    void on_result(TaskId task, const Point& params, const TaskResult& result) override;

private:
    std::shared_ptr<Session> session_;
    bool failed_ = false;
};

}  // namespace mpisweep::python
