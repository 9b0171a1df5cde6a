// doctest 2.4.9 cannot print std::string_view or std::optional in a failed comparison;
// these StringMakers let CHECK(a == b) work on them. Included into every unit test file
// by the build (tests/CMakeLists.txt).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

namespace doctest {

template <>
struct StringMaker<std::string_view> {
    static String convert(std::string_view v) { return String(std::string(v).c_str()); }
};

template <class T>
struct StringMaker<std::optional<T>> {
    static String convert(const std::optional<T>& v) {
        if (!v) return "nullopt";
        return StringMaker<T>::convert(*v);
    }
};

} // namespace doctest
