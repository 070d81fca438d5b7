#include "common/data_dir.h"

#include <cstdlib>

#include <fmt/format.h>

namespace avctl {

std::string DefaultDataDir() {
  const char* env = std::getenv("AVCTL_DATA_DIR");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(AVCTL_DEFAULT_DATA_DIR);
}

std::vector<std::string> DefaultLabelFiles() {
  std::vector<std::string> files;
  for (int p = 1; p <= 5; ++p) files.push_back(fmt::format("{}/partition_{}.csv", DefaultDataDir(), p));
  return files;
}

}  // namespace avctl
