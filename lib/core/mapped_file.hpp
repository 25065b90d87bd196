// core/mapped_file.hpp - a read-only view of a whole file: mapped, mapped and locked, or read.
//
// Weights are used in place from the mapping, so opening a model costs nothing until pages
// are touched. `read` copies the file into anonymous memory instead, for callers who want
// the weights immune to page eviction without mlock privileges.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace ember {

class MappedFile {
public:
    enum class Mode {
        map,         // mmap, pages loaded on first touch
        map_locked,  // mmap + mlock; if mlock is refused, stays mapped and sets warning()
        read,        // read everything into anonymous memory
    };

    // Throws ember::Error(io) naming the path and the OS reason.
    static MappedFile open(const std::string &path, Mode mode = Mode::map);

    MappedFile() = default;
    MappedFile(MappedFile &&other) noexcept;
    MappedFile &operator=(MappedFile &&other) noexcept;
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;
    ~MappedFile();

    std::span<const uint8_t> bytes() const { return {data_, size_}; }
    uint64_t size() const { return size_; }
    bool locked() const { return locked_; }
    // Non-empty when the requested mode was degraded (mlock refused); say it to the user.
    const std::string &warning() const { return warning_; }

private:
    void release() noexcept;

    const uint8_t *data_ = nullptr;
    uint64_t size_ = 0;
    bool locked_ = false;
    std::string warning_;
};

}  // namespace ember
