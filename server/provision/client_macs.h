// Which phone (MAC) is behind a client address: learnt from requests whose name carries the
// MAC (SEP<MAC>.cnf.xml, CTLSEP<MAC>.tlv, ...), used to attribute the others to the phone.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "core/limits.h"

namespace labcm::provision {

class ClientMacs {
public:
    void learn(const std::string& ip, const std::string& mac) {
        if (mac.empty() || ip.empty()) return;
        std::lock_guard lock(mutex_);
        if (map_.size() >= limits::kMaxClientMacs && !map_.contains(ip)) map_.clear(); // bounded; rebuilt by use
        map_[ip] = mac;
    }
    std::string lookup(const std::string& ip) const {
        std::lock_guard lock(mutex_);
        auto it = map_.find(ip);
        return it == map_.end() ? std::string() : it->second;
    }

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::string> map_;
};

} // namespace labcm::provision
