#include "common/heap_tuning.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace avctl {

Status KeepFreedMemoryForReuse() {
#if defined(__GLIBC__)
  // M_MMAP_MAX 0: no block comes from mmap. M_TRIM_THRESHOLD -1: never give
  // the top of the heap back (mallopt(3)).
  if (mallopt(M_MMAP_MAX, 0) != 1 || mallopt(M_TRIM_THRESHOLD, -1) != 1) {
    return Status::Internal("mallopt refused M_MMAP_MAX / M_TRIM_THRESHOLD");
  }
#endif
  return Status::OK();
}

}  // namespace avctl
