#include "features/npy.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/float16.h"

namespace avctl {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

// A tiny parser of the Python literal subset numpy writes in the header:
// a dict of string keys to strings, booleans and tuples of integers.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& file) : s_(text), file_(file) {}

  Status Parse(std::map<std::string, std::string>* strings, std::map<std::string, bool>* bools,
               std::map<std::string, std::vector<size_t>>* tuples) {
    SkipSpace();
    if (!Eat('{')) return Error("header is not a dict literal");
    while (true) {
      SkipSpace();
      if (Eat('}')) break;
      std::string key;
      AVCTL_RETURN_IF_ERROR(ParseString(&key));
      SkipSpace();
      if (!Eat(':')) return Error(fmt::format("expected ':' after key '{}'", key));
      SkipSpace();
      if (Peek() == '\'' || Peek() == '"') {
        std::string v;
        AVCTL_RETURN_IF_ERROR(ParseString(&v));
        (*strings)[key] = v;
      } else if (Peek() == '(') {
        std::vector<size_t> v;
        AVCTL_RETURN_IF_ERROR(ParseTuple(&v));
        (*tuples)[key] = v;
      } else if (s_.substr(pos_, 4) == "True") {
        pos_ += 4;
        (*bools)[key] = true;
      } else if (s_.substr(pos_, 5) == "False") {
        pos_ += 5;
        (*bools)[key] = false;
      } else {
        return Error(fmt::format("unsupported value for key '{}'", key));
      }
      SkipSpace();
      if (Eat(',')) continue;
      SkipSpace();
      if (Eat('}')) break;
      return Error("expected ',' or '}' in header dict");
    }
    return Status::OK();
  }

 private:
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }
  Status Error(const std::string& msg) const {
    return Status::InvalidArgument(fmt::format("bad NPY header at character {}: {}", pos_, msg))
        .WithFile(file_).WithField("header");
  }
  Status ParseString(std::string* out) {
    char q = Peek();
    if (q != '\'' && q != '"') return Error("expected a quoted string");
    ++pos_;
    size_t end = s_.find(q, pos_);
    if (end == std::string_view::npos) return Error("unterminated string");
    *out = std::string(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return Status::OK();
  }
  Status ParseTuple(std::vector<size_t>* out) {
    Eat('(');
    while (true) {
      SkipSpace();
      if (Eat(')')) return Status::OK();
      size_t v = 0;
      size_t start = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        v = v * 10 + static_cast<size_t>(s_[pos_] - '0');
        ++pos_;
      }
      if (pos_ == start) return Error("expected a non-negative integer in the shape tuple");
      if (Peek() == 'L') ++pos_;  // Python 2 long suffix
      out->push_back(v);
      SkipSpace();
      if (Eat(',')) continue;
      SkipSpace();
      if (Eat(')')) return Status::OK();
      return Error("expected ',' or ')' in the shape tuple");
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  const std::string& file_;
};

bool HostIsLittleEndian() {
  const uint16_t one = 1;
  uint8_t b;
  std::memcpy(&b, &one, 1);
  return b == 1;
}

template <typename T>
T Load(const uint8_t* p, bool swap) {
  uint8_t buf[sizeof(T)];
  std::memcpy(buf, p, sizeof(T));
  if (swap) {
    for (size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(buf[i], buf[sizeof(T) - 1 - i]);
  }
  T v;
  std::memcpy(&v, buf, sizeof(T));
  return v;
}

}  // namespace

Result<NpyArray> ParseNpy(std::string_view bytes, const std::string& name) {
  if (bytes.size() < kMagicLen + 2 || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0) {
    return Status::InvalidArgument("not an NPY file (bad magic; expected \\x93NUMPY)").WithFile(name).WithField("magic");
  }
  NpyArray out;
  const auto* u = reinterpret_cast<const uint8_t*>(bytes.data());
  out.version_major = u[6];
  size_t header_len = 0, header_start = 0;
  if (out.version_major == 1) {
    if (bytes.size() < 10) return Status::InvalidArgument("truncated NPY preamble").WithFile(name).WithField("header");
    header_len = static_cast<size_t>(u[8]) | static_cast<size_t>(u[9]) << 8;
    header_start = 10;
  } else if (out.version_major == 2 || out.version_major == 3) {
    if (bytes.size() < 12) return Status::InvalidArgument("truncated NPY preamble").WithFile(name).WithField("header");
    header_len = static_cast<size_t>(u[8]) | static_cast<size_t>(u[9]) << 8 | static_cast<size_t>(u[10]) << 16 |
                 static_cast<size_t>(u[11]) << 24;
    header_start = 12;
  } else {
    return Status::InvalidArgument(fmt::format("unsupported NPY format version {}.{} (1.0, 2.0 and 3.0 are read)",
                                               out.version_major, u[7]))
        .WithFile(name).WithField("version");
  }
  if (header_start + header_len > bytes.size()) {
    return Status::InvalidArgument(fmt::format("header of {} bytes runs past the end of the {}-byte file", header_len,
                                               bytes.size()))
        .WithFile(name).WithField("header");
  }
  std::string_view header = bytes.substr(header_start, header_len);
  std::map<std::string, std::string> strings;
  std::map<std::string, bool> bools;
  std::map<std::string, std::vector<size_t>> tuples;
  AVCTL_RETURN_IF_ERROR(HeaderParser(header, name).Parse(&strings, &bools, &tuples));
  if (!strings.count("descr")) return Status::InvalidArgument("header has no 'descr'").WithFile(name).WithField("descr");
  if (!bools.count("fortran_order")) {
    return Status::InvalidArgument("header has no boolean 'fortran_order'").WithFile(name).WithField("fortran_order");
  }
  if (!tuples.count("shape")) return Status::InvalidArgument("header has no 'shape' tuple").WithFile(name).WithField("shape");
  out.descr = strings["descr"];
  out.fortran_order = bools["fortran_order"];
  out.shape = tuples["shape"];

  const std::string& d = out.descr;
  if (d.size() != 3 || (d[0] != '<' && d[0] != '>' && d[0] != '=' && d[0] != '|') || d[1] != 'f' ||
      (d[2] != '2' && d[2] != '4' && d[2] != '8')) {
    return Status::InvalidArgument(fmt::format("unsupported dtype '{}' (float16, float32 or float64 are read)", d))
        .WithFile(name).WithField("descr");
  }
  const size_t item = static_cast<size_t>(d[2] - '0');
  const bool little = d[0] == '<' || ((d[0] == '=' || d[0] == '|') && HostIsLittleEndian());
  const bool swap = little != HostIsLittleEndian();

  size_t count = 1;
  for (size_t s : out.shape) count *= s;
  const size_t data_start = header_start + header_len;
  const size_t expected = count * item;
  if (bytes.size() - data_start != expected) {
    return Status::InvalidArgument(fmt::format("data holds {} bytes but shape and dtype need {} ({})",
                                               bytes.size() - data_start, expected,
                                               bytes.size() - data_start < expected ? "truncated" : "trailing bytes"))
        .WithFile(name).WithField("shape");
  }
  if (out.fortran_order && out.shape.size() > 2) {
    return Status::InvalidArgument("Fortran-order arrays of more than 2 dimensions are not supported")
        .WithFile(name).WithField("fortran_order");
  }

  out.data.resize(count);
  const uint8_t* p = u + data_start;
  for (size_t i = 0; i < count; ++i) {
    double v;
    if (item == 2) {
      v = HalfToFloat(Load<uint16_t>(p + 2 * i, swap));
    } else if (item == 4) {
      v = Load<float>(p + 4 * i, swap);
    } else {
      v = Load<double>(p + 8 * i, swap);
    }
    out.data[i] = static_cast<float>(v);
    if (!std::isfinite(out.data[i])) {
      size_t cols = out.shape.size() >= 2 ? out.shape.back() : 1;
      size_t row = i / cols, col = i % cols;
      if (out.fortran_order && out.shape.size() == 2) {
        row = i % out.shape[0];
        col = i / out.shape[0];
      }
      return Status::InvalidArgument(fmt::format("value at row {} column {} is {}{}", row, col, v,
                                                 std::isfinite(v) ? " (beyond float32's range)" : ""))
          .WithFile(name).WithField("data");
    }
  }
  if (out.fortran_order && out.shape.size() == 2) {
    const size_t rows = out.shape[0], cols = out.shape[1];
    std::vector<float> c(count);
    for (size_t col = 0; col < cols; ++col)
      for (size_t row = 0; row < rows; ++row) c[row * cols + col] = out.data[col * rows + row];
    out.data.swap(c);
    out.fortran_order = false;
  }
  return out;
}

Result<NpyArray> ReadNpyFile(const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  return ParseNpy(bytes, path);
}

Status CheckFramesByDims(const NpyArray& a, size_t expected_dims, const std::string& name) {
  std::string shape;
  for (size_t i = 0; i < a.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(a.shape[i]);
  if (a.shape.size() == 1) shape += ",";
  if (a.shape.size() != 2 || (expected_dims > 0 && a.shape[1] != expected_dims)) {
    return Status::InvalidArgument(fmt::format("expected shape (frames, {}), got ({})",
                                               expected_dims > 0 ? std::to_string(expected_dims) : "dims", shape))
        .WithFile(name).WithField("shape");
  }
  if (a.shape[0] == 0) return Status::InvalidArgument("array has zero frames").WithFile(name).WithField("shape");
  return Status::OK();
}

}  // namespace avctl
