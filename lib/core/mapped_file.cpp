// core/mapped_file.cpp - POSIX mmap / mlock / read of a whole file.
#include "core/mapped_file.hpp"

#include "core/fail.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ember {

namespace {

// Closes the descriptor on every path out of open(); the mapping outlives it.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

[[noreturn]] void fail_os(const char *what, const std::string &path, int err) {
    fail(Errc::io, "{}: {} failed: {}", path, what, std::strerror(err));
}

}  // namespace

MappedFile MappedFile::open(const std::string &path, Mode mode) {
    Fd fd;
    fd.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd.fd < 0) fail_os("open", path, errno);
    struct stat st {};
    if (::fstat(fd.fd, &st) != 0) fail_os("stat", path, errno);
    if (!S_ISREG(st.st_mode)) fail(Errc::io, "{}: not a regular file", path);

    MappedFile file;
    file.size_ = static_cast<uint64_t>(st.st_size);
    if (file.size_ == 0) return file;  // nothing to map; the parser reports the empty file

    if (mode == Mode::read) {
        // Anonymous memory rather than a std::vector so release() is uniform (munmap).
        void *p = ::mmap(nullptr, file.size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) fail(Errc::out_of_memory, "{}: cannot allocate {} bytes to read the file", path, file.size_);
        file.data_ = static_cast<const uint8_t *>(p);
        file.anonymous_ = true;
        uint64_t done = 0;
        while (done < file.size_) {
            ssize_t n = ::pread(fd.fd, static_cast<uint8_t *>(p) + done, file.size_ - done, static_cast<off_t>(done));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail_os("read", path, errno);  // ~MappedFile unmaps
            if (n == 0) fail(Errc::io, "{}: file shrank while reading (got {} of {} bytes)", path, done, file.size_);
            done += static_cast<uint64_t>(n);
        }
        ::mprotect(p, file.size_, PROT_READ);
        file.fd_ = std::exchange(fd.fd, -1);
        return file;
    }

    void *p = ::mmap(nullptr, file.size_, PROT_READ, MAP_SHARED, fd.fd, 0);
    if (p == MAP_FAILED) fail_os("mmap", path, errno);
    file.data_ = static_cast<const uint8_t *>(p);
    if (mode == Mode::map_locked) {
        if (::mlock(p, file.size_) == 0) {
            file.locked_ = true;
        } else {
            int err = errno;
            file.warning_ = fmt::format("{}: mlock of {} bytes failed ({}); weights stay mapped but may be "
                                        "paged out (raise `ulimit -l`)", path, file.size_, std::strerror(err));
        }
    }
    return file;
}

MappedFile::MappedFile(MappedFile &&other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      locked_(std::exchange(other.locked_, false)), anonymous_(std::exchange(other.anonymous_, false)),
      fd_(std::exchange(other.fd_, -1)), warning_(std::move(other.warning_)) {}

MappedFile &MappedFile::operator=(MappedFile &&other) noexcept {
    if (this != &other) {
        release();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        locked_ = std::exchange(other.locked_, false);
        anonymous_ = std::exchange(other.anonymous_, false);
        fd_ = std::exchange(other.fd_, -1);
        warning_ = std::move(other.warning_);
    }
    return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (data_ == nullptr) return;
    void *p = const_cast<uint8_t *>(data_);
    if (locked_) ::munlock(p, size_);
    ::munmap(p, size_);
    data_ = nullptr;
    size_ = 0;
    locked_ = false;
    anonymous_ = false;
}

// Pages that stay readable from the file but are read one row at a time (embeddings): fault
// them in a page at a time. Without this, a fault maps the neighbouring cached pages too
// (readahead, then fault-around of everything the loading left in the page cache), and
// looking up a 512-token prompt made ~70 MB of a Llama-3 embedding resident for 2 MB of rows.
void MappedFile::drop_cached(uint64_t offset, uint64_t length, void *mapped) noexcept {
    ::madvise(mapped, length, MADV_RANDOM);
    if (fd_ >= 0)  // read mode (mmap mode keeps no descriptor; its cache is the mapping's)
        ::posix_fadvise(fd_, static_cast<off_t>(offset), static_cast<off_t>(length), POSIX_FADV_DONTNEED);
}

uint64_t MappedFile::discard(uint64_t offset, uint64_t length, bool rereadable) noexcept {
    if (data_ == nullptr || offset >= size_ || length > size_ - offset) return 0;
    if (rereadable && locked_) return 0;
    const long ps = ::sysconf(_SC_PAGESIZE);
    const uint64_t page = ps > 0 ? static_cast<uint64_t>(ps) : 4096;
    // data_ is page aligned (mmap), so file offsets and addresses round alike. Only whole
    // pages inside the range: the partial ones at either end hold a neighbour's bytes.
    const uint64_t begin = (offset + page - 1) / page * page;
    const uint64_t end = (offset + length) / page * page;
    if (end <= begin) return 0;
    void *p = const_cast<uint8_t *>(data_ + begin);
    if (rereadable && anonymous_) {
        // Same bytes, now backed by the file: the anonymous pages are freed by the remap.
        if (fd_ < 0) return 0;
        void *q = ::mmap(p, end - begin, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd_, static_cast<off_t>(begin));
        if (q == MAP_FAILED) return 0;
        drop_cached(begin, end - begin, q);
        return end - begin;
    }
    if (locked_) ::munlock(p, end - begin);  // MADV_DONTNEED refuses locked pages
    // Advice only: if the kernel refuses, the pages just stay resident.
    if (::madvise(p, end - begin, MADV_DONTNEED) != 0) return 0;
    if (rereadable) drop_cached(begin, end - begin, p);
    return end - begin;
}

}  // namespace ember
