// The code version (git describe at configure time), recorded in stores,
// results and reports so every number can be traced to the code that made it.
#pragma once

namespace avctl {
const char* CodeVersion();
}  // namespace avctl
