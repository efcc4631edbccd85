#pragma once
// A file's bytes, modification time and neighbours: what "left untouched"
// means for a database the server or the store refused. Shared by the unit
// and the server tests.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace civicperf::test {

struct file_state {
  std::string bytes;
  std::filesystem::file_time_type mtime;
  std::vector<std::string> directory;
  friend bool operator==(const file_state&, const file_state&) = default;
};

/// The sorted names in a directory.
inline std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

inline file_state state_of(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  file_state s;
  s.bytes.assign(std::istreambuf_iterator<char>(in), {});
  s.mtime = std::filesystem::last_write_time(file);
  s.directory = listing(std::filesystem::path(file).parent_path());
  return s;
}

}  // namespace civicperf::test

namespace Catch {
template <>
struct StringMaker<civicperf::test::file_state> {
  static std::string convert(const civicperf::test::file_state& s) {
    std::string names;
    for (const auto& n : s.directory) names += " " + n;
    return std::to_string(s.bytes.size()) + " bytes, mtime " +
           std::to_string(s.mtime.time_since_epoch().count()) + ", beside:" + names;
  }
};
}  // namespace Catch
