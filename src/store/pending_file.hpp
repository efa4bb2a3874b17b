#pragma once
// A new file written beside its target and renamed over it only once complete, so a failure
// neither destroys an existing file nor leaves a half-written one.
#include <string>

namespace mpisweep::store {

/// The folder of `path` ("." for a bare file name).
std::string folder_of(const std::string& path);

class PendingFile {
public:
    /// Reserves a fresh name in the folder of `target` (creating an empty file there).
    /// Throws StoreError naming the folder when it cannot be written.
    explicit PendingFile(std::string target);
    PendingFile(const PendingFile&) = delete;
    PendingFile& operator=(const PendingFile&) = delete;
    /// Removes the file unless commit() succeeded; never throws.
    ~PendingFile();

    const std::string& path() const { return path_; }
    /// Renames the file onto the target (atomically replacing it). Throws StoreError.
    void commit();

private:
    std::string target_;
    std::string path_;
    bool committed_ = false;
};

}  // namespace mpisweep::store
