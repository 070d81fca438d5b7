// Reader of NumPy .npy files, format versions 1.0, 2.0 and 3.0 (numpy's
// lib/format.py, NEP 1): the magic "\x93NUMPY", two version bytes, the header
// length (2 bytes little-endian in 1.0, 4 in 2.0 and 3.0), the header (a
// Python dict literal such as {'descr': '<f4', 'fortran_order': False,
// 'shape': (120, 4096), }, padded with spaces and '\n'; latin-1 in 1.0/2.0,
// UTF-8 in 3.0) and the raw array data.
//
// Read: float16, float32 and float64 (descr '<f2' '<f4' '<f8', '>' for big
// endian, '=' and '|' for native order as numpy itself takes them), any rank,
// C or Fortran order. Values are converted to float32 in C (row-major)
// order. Every malformation, empty arrays and non-finite values are errors
// naming the file and the header field ("magic", "version", "header",
// "descr", "fortran_order", "shape", "data").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace avctl {

struct NpyArray {
  std::vector<size_t> shape;
  std::string descr;           // as written in the header, e.g. "<f2"
  bool fortran_order = false;  // as written in the header; `data` is C order either way
  int version_major = 1;
  std::vector<float> data;     // converted to float32, C (row-major) order
};

// Parses a whole .npy file held in memory; `name_for_errors` names it in errors.
Result<NpyArray> ParseNpy(std::string_view bytes, const std::string& name_for_errors);
Result<NpyArray> ReadNpyFile(const std::string& path);

// OK when `a` is 2-D [frames x dims] with frames > 0 and dims ==
// expected_dims (0: any). The error names the file, the expected and the
// found shape.
Status CheckFramesByDims(const NpyArray& a, size_t expected_dims, const std::string& name_for_errors);

// ReadNpyFile followed by CheckFramesByDims.
Result<NpyArray> ReadNpyFrames(const std::string& path, size_t expected_dims);

// "(2, 3)", "(5,)" or "()", as Python writes a shape.
std::string NpyShapeString(const std::vector<size_t>& shape);

}  // namespace avctl
