// Reader of NumPy .npy files (format versions 1.0, 2.0 and 3.0), as written
// by numpy.save: magic "\x93NUMPY", version, header length (2 bytes in v1,
// 4 in v2/v3), a Python dict literal {'descr': '<f4', 'fortran_order': False,
// 'shape': (N, 4096), } and the raw data. Floating-point dtypes of 2, 4 and 8
// bytes in either byte order are read and converted to float32 in C order.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace avctl {

struct NpyArray {
  std::vector<size_t> shape;
  std::string descr;        // as written in the header, e.g. "<f2"
  bool fortran_order = false;
  int version_major = 1;
  std::vector<float> data;  // converted to float32, C (row-major) order
};

// Errors name the file and the header field at fault; non-finite values are
// rejected naming their row and column.
Result<NpyArray> ReadNpyFile(const std::string& path);
Result<NpyArray> ParseNpy(std::string_view bytes, const std::string& name_for_errors);

// A 2-D [frames x dims] array with dims == expected_dims (0: any) and frames > 0.
Status CheckFramesByDims(const NpyArray& a, size_t expected_dims, const std::string& name_for_errors);

}  // namespace avctl
