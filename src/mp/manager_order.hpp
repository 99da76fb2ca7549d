// The order of encoded values, for sorting a managed list whose elements
// the server knows only as their encodings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace weft::mp::manager::detail {

// Compares two MessagePack encodings as the values they encode: numbers
// numerically (integers and floats alike), strings and binary bytewise,
// arrays (tuples, vectors, structs) and maps lexicographically, which is
// C++'s operator< for those types. Values of different kinds order by kind
// (nil, bool, number, string, array, map, extension). Returns <0, 0 or >0.
// Throws codec::DecodeError for something that is not MessagePack.
int compare_encoded(std::string_view a, std::string_view b);

// Sorts encodings by that order, stably (as Python's list.sort), each
// decoded once; descending with `reverse`.
void sort_encoded(std::vector<std::string>& values, bool reverse);

}  // namespace weft::mp::manager::detail
