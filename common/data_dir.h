// Where the shipped CREMA-D partition files live: AVCTL_DATA_DIR, or the
// project's data/crema-d compiled in.
#pragma once

#include <string>
#include <vector>

namespace avctl {

std::string DefaultDataDir();
// DefaultDataDir()/partition_{1..5}.csv
std::vector<std::string> DefaultLabelFiles();

}  // namespace avctl
