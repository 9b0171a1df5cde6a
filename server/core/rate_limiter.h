// Token buckets per key (a source address) under one bucket for all keys, as GCRA (the
// theoretical arrival time per bucket): at most `burst` at once, then one per `interval`.
// A key whose bucket is full again is forgotten; at most `maxKeys` are tracked, and a new key
// past that is refused (forged sources are held by the bucket for all anyway).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace labcm {

class KeyedRateLimiter {
public:
    using Clock = std::chrono::steady_clock;
    struct Bucket {
        int burst;
        Clock::duration interval;
    };
    KeyedRateLimiter(Bucket perKey, Bucket total, std::size_t maxKeys)
        : perKey_(perKey), total_(total), maxKeys_(maxKeys) {}

    /// @brief Takes one from `key`'s bucket and the total's; false (and counted) when either is empty.
    bool allow(const std::string& key, Clock::time_point now) {
        std::lock_guard lock(mutex_);
        auto it = tat_.find(key);
        if (it == tat_.end()) {
            if (tat_.size() >= maxKeys_) prune(now);
            if (tat_.size() >= maxKeys_) return refuse();
        }
        Clock::time_point keyTat = it == tat_.end() ? now : std::max(it->second, now);
        if (!fits(keyTat, now, perKey_) || !fits(std::max(totalTat_, now), now, total_)) return refuse();
        tat_[key] = keyTat + perKey_.interval;
        totalTat_ = std::max(totalTat_, now) + total_.interval;
        return true;
    }
    std::uint64_t refused() const {
        std::lock_guard lock(mutex_);
        return refused_;
    }
    std::size_t keys() const {
        std::lock_guard lock(mutex_);
        return tat_.size();
    }

private:
    static bool fits(Clock::time_point tat, Clock::time_point now, const Bucket& b) {
        return tat - now <= b.interval * (b.burst - 1);
    }
    bool refuse() {
        ++refused_;
        return false;
    }
    void prune(Clock::time_point now) {
        std::erase_if(tat_, [now](const auto& kv) { return kv.second <= now; });
    }

    mutable std::mutex mutex_;
    Bucket perKey_, total_;
    std::size_t maxKeys_;
    std::unordered_map<std::string, Clock::time_point> tat_;
    Clock::time_point totalTat_{};
    std::uint64_t refused_ = 0;
};

} // namespace labcm
