// files(DIR,REGEX): an axis of the files under a directory.
#include <algorithm>
#include <filesystem>
#include <regex>
#include <system_error>

#include "grid/spec_internal.hpp"

namespace mpisweep::detail {

std::vector<std::string> matching_files(const std::string& name, const std::string& dir,
                                        const std::string& regex, std::string_view call) {
    namespace fs = std::filesystem;
    auto fail = [&](const std::string& what) {
        throw SpecError("param '" + name + "': " + what + " in '" + std::string(call) + "'");
    };
    std::regex pattern;
    try {
        pattern = std::regex(regex, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        fail("invalid regex '" + regex + "' (" + e.what() + ")");
    }
    std::error_code ec;
    fs::path root(dir);
    if (!fs::exists(root, ec)) fail("directory '" + dir + "' does not exist");
    if (!fs::is_directory(root, ec)) fail("'" + dir + "' is not a directory");

    // Sorted by relative path, so the task ids do not depend on the directory order.
    std::vector<std::string> relative;
    fs::recursive_directory_iterator it(root, ec), end;
    if (ec) fail("cannot read directory '" + dir + "': " + ec.message());
    for (; it != end; it.increment(ec)) {
        if (ec) fail("cannot read directory '" + dir + "': " + ec.message());
        if (!it->is_regular_file(ec)) continue;
        auto rel = it->path().lexically_relative(root).generic_string();
        if (std::regex_match(rel, pattern)) relative.push_back(std::move(rel));
    }
    if (ec) fail("cannot read directory '" + dir + "': " + ec.message());
    std::sort(relative.begin(), relative.end());
    if (relative.empty()) {
        fail(
            "empty axis: no file matches (the regex must match the whole path relative to DIR, "
            "e.g. 'sub/x\\.csv')");
    }
    std::vector<std::string> paths;
    paths.reserve(relative.size());
    for (const auto& rel : relative) paths.push_back((root / rel).generic_string());
    return paths;
}

}  // namespace mpisweep::detail
