// core/mapped_file.hpp - a read-only view of a whole file: mapped, mapped and locked, or read.
//
// Weights are used in place from the mapping, so opening a model costs nothing until pages
// are touched. `read` copies the file into anonymous memory instead, for callers who want
// the weights immune to page eviction without mlock privileges (except ranges handed back
// with discard(rereadable), which are read from the file again on demand).
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

    // Gives back the memory of the whole pages inside [offset, offset + length) whose bytes
    // nobody reads any more (a weight repacked into memory of its own), so they stop counting
    // toward the process's resident memory. With `rereadable` the caller may still read them:
    // mapped pages are dropped (a read faults them back in from the file), Mode::read's
    // anonymous pages are replaced by a private mapping of the same file bytes (read back on
    // demand, so rarely read rows such as embeddings cost memory only once touched), locked
    // ones are kept. Otherwise the pages are dropped in every mode (unlocked first): Mode::read's
    // anonymous pages then read as zeros, so nothing may read them again.
    // Returns the bytes dropped; 0 when nothing could be (an empty MappedFile, a range
    // smaller than a page, a range outside the file).
    uint64_t discard(uint64_t offset, uint64_t length, bool rereadable) noexcept;

private:
    void drop_cached(uint64_t offset, uint64_t length, void *mapped) noexcept;

    void release() noexcept;

    const uint8_t *data_ = nullptr;
    uint64_t size_ = 0;
    bool locked_ = false;
    bool anonymous_ = false;  // Mode::read: pages are not backed by the file
    int fd_ = -1;             // Mode::read only: kept open for discard(rereadable)
    std::string warning_;
};

}  // namespace ember
