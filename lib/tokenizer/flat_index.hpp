// tokenizer/flat_index.hpp - open-addressing lookups for the encoders' hot loops.
//
// Encoding spends most of its time asking "is this slice a token?" and "do these two tokens
// merge?". Node-based std::unordered_map costs a cache miss per probe; these tables keep
// everything in one flat array (linear probing, load factor <= 1/2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::tokenizer {

inline uint64_t hash_bytes(std::string_view s) {
    // FNV-1a, then a final avalanche so the low bits (the slot) depend on every byte.
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

inline uint64_t hash_u64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

inline size_t table_size_for(size_t n) {
    size_t size = 16;
    while (size < 2 * n) size *= 2;
    return size;
}

// Token text -> id. Texts live in the caller's vector; slots hold (hash tag, id + 1).
class TextIndex {
public:
    template <class Texts>  // Texts: indexable, texts[i] converts to std::string_view
    void build(const Texts &texts, size_t n) {
        slots_.assign(table_size_for(n), 0);
        mask_ = slots_.size() - 1;
        for (size_t i = 0; i < n; ++i) {
            const std::string_view s = texts[i];
            const uint64_t h = hash_bytes(s);
            for (size_t at = h & mask_;; at = (at + 1) & mask_) {
                if (slots_[at] == 0) {
                    slots_[at] = (h & 0xFFFFFFFF00000000ull) | uint64_t(i + 1);
                    break;
                }
                if (tag(slots_[at]) == (h >> 32) && std::string_view(texts[id(slots_[at])]) == s) {
                    slots_[at] = (h & 0xFFFFFFFF00000000ull) | uint64_t(i + 1);  // a repeated text: last id wins
                    break;
                }
            }
        }
    }
    template <class Texts>
    int32_t find(const Texts &texts, std::string_view s) const {
        if (slots_.empty()) return -1;
        const uint64_t h = hash_bytes(s);
        for (size_t at = h & mask_;; at = (at + 1) & mask_) {
            const uint64_t slot = slots_[at];
            if (slot == 0) return -1;
            if (tag(slot) == (h >> 32) && std::string_view(texts[id(slot)]) == s) return int32_t(id(slot));
        }
    }

private:
    static uint32_t tag(uint64_t slot) { return uint32_t(slot >> 32); }
    static size_t id(uint64_t slot) { return size_t(uint32_t(slot)) - 1; }
    std::vector<uint64_t> slots_;
    size_t mask_ = 0;
};

// 64-bit key -> (rank, result); the first insertion of a key wins.
class PairIndex {
public:
    struct Entry {
        uint64_t key;  // ~0: empty
        int32_t rank;
        int32_t result;
    };
    void reserve(size_t n) {
        slots_.assign(table_size_for(n), Entry{~0ull, 0, 0});
        mask_ = slots_.size() - 1;
    }
    void insert(uint64_t key, int32_t rank, int32_t result) {
        for (size_t at = hash_u64(key) & mask_;; at = (at + 1) & mask_) {
            if (slots_[at].key == ~0ull) {
                slots_[at] = {key, rank, result};
                return;
            }
            if (slots_[at].key == key) return;
        }
    }
    const Entry *find(uint64_t key) const {
        if (slots_.empty()) return nullptr;
        for (size_t at = hash_u64(key) & mask_;; at = (at + 1) & mask_) {
            const Entry &e = slots_[at];
            if (e.key == key) return &e;
            if (e.key == ~0ull) return nullptr;
        }
    }

private:
    std::vector<Entry> slots_;
    size_t mask_ = 0;
};

}  // namespace ember::tokenizer
