#pragma once
// Appends the output of one worker process's tasks to its two stream files (format:
// task_log_format.hpp). Created on the first write, so a worker that runs no task makes no
// file. Not thread-safe: one worker runs one task at a time.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "exec/task_log_format.hpp"

namespace mpisweep::detail {

/// Bytes of one stream of one attempt, to be appended with their index entry.
struct OutputChunk {
    EntryKind stream = EntryKind::Stdout;
    std::string_view data;
};

class TaskLogWriter {
public:
    /// Files <dir>/<stem>.log and .idx, where stem is stream_stem(run name, rank); `header`
    /// goes into the index. An empty header.run makes a name for this process alone.
    TaskLogWriter(std::string dir, StreamHeader header);
    ~TaskLogWriter();
    TaskLogWriter(const TaskLogWriter&) = delete;
    TaskLogWriter& operator=(const TaskLogWriter&) = delete;

    /// Creates the folder and both files unless done, and again when they were removed
    /// meanwhile. Throws std::runtime_error naming the folder or file and the system's reason.
    void open();

    /// Appends the chunks' bytes (one writev), then their index entries and `end` when given
    /// (one write): the entries only ever point at bytes already written. Throws
    /// std::runtime_error naming the file; after a failed write the stream is not used again.
    void append(std::uint64_t task, int attempt, double start, const std::vector<OutputChunk>& chunks,
                const IndexEntry* end = nullptr);

    const std::string& data_path() const { return data_path_; }
    const std::string& index_path() const { return index_path_; }

private:
    void write_all(int fd, const std::string& path, const char* data, std::size_t size);

    std::string dir_;
    StreamHeader header_;
    std::string data_path_, index_path_;
    int data_fd_ = -1, index_fd_ = -1;
    std::uint64_t data_size_ = 0;
    std::string broken_;       ///< why the stream stopped, after a failed write
    std::string entry_bytes_;  ///< reused for each append
};

}  // namespace mpisweep::detail
