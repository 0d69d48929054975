// TempDir: a fresh directory under the system's temporary directory for one
// test, removed with everything in it when the TempDir goes.
//
//   TempDir dir("plexus-config");
//   std::string file = dir.Write("node.toml", text);   // mode 0600 by default
//   std::string state = dir.Sub("a");                  // created
//
// Thread use: one test thread.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace plexus::testing {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "plexus-test") {
    std::string templ =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    if (!path_.empty()) std::filesystem::remove_all(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Empty when the directory could not be made.
  const std::string& path() const { return path_; }
  // The path of `name` inside (not created).
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }
  // A subdirectory, created.
  std::string Sub(std::string_view name) const {
    std::string dir = File(name);
    std::filesystem::create_directories(dir);
    return dir;
  }
  // Writes `text` to `name` with `mode`; returns its path.
  std::string Write(std::string_view name, std::string_view text, mode_t mode = 0600) const {
    std::string file = File(name);
    std::ofstream(file) << text;
    chmod(file.c_str(), mode);
    return file;
  }

 private:
  std::string path_;
};

}  // namespace plexus::testing
