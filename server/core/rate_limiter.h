// Token buckets as GCRA (the theoretical arrival time per bucket): at most `burst` at once,
// then one per `interval`. RateBucket is one bucket (auto-registration's creations);
// KeyedRateLimiter is a bucket per key (a source address) under one bucket for all keys. A key
// whose bucket is full again is forgotten; at most `maxKeys` are tracked, and a new key past
// that is refused (forged sources are held by the bucket for all anyway).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace labcm {

struct RateBucket {
    using Clock = std::chrono::steady_clock;
    int burst;
    Clock::duration interval;

    /// @brief True when one more fits a bucket whose theoretical arrival time is `tat`.
    bool fits(Clock::time_point tat, Clock::time_point now) const { return tat - now <= interval * (burst - 1); }
    /// @brief Takes one at `now` when it fits, moving `tat` on; false when the bucket is empty.
    bool take(Clock::time_point& tat, Clock::time_point now) const {
        Clock::time_point from = std::max(tat, now);
        if (!fits(from, now)) return false;
        tat = from + interval;
        return true;
    }
};

/// One bucket, not thread-safe (its owner holds the lock).
class RateLimiter {
public:
    explicit RateLimiter(RateBucket bucket) : bucket_(bucket) {}
    /// @brief True (and one taken) when allowed at `now`.
    bool allow(RateBucket::Clock::time_point now) { return bucket_.take(tat_, now); }

private:
    RateBucket bucket_;
    RateBucket::Clock::time_point tat_{};
};

class KeyedRateLimiter {
public:
    using Clock = RateBucket::Clock;
    using Bucket = RateBucket;
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
        Clock::time_point keyTat = it == tat_.end() ? now : it->second;
        if (!perKey_.fits(std::max(keyTat, now), now) || !total_.take(totalTat_, now)) return refuse();
        perKey_.take(keyTat, now);
        tat_[key] = keyTat;
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
