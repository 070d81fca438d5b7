#include "features/npy.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/file_util.h"
#include "common/float16.h"

namespace avctl {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

Status Error(const std::string& file, const std::string& field, const std::string& msg) {
  return Status::InvalidArgument(msg).WithFile(file).WithField(field);
}

// ---- Header: the subset of Python literals numpy writes ----

// A parsed Python literal.
struct PyValue {
  enum class Kind { kString, kInt, kBool, kNone, kTuple, kList, kDict };
  Kind kind = Kind::kNone;
  std::string str;                 // kString
  uint64_t integer = 0;            // kInt: magnitude
  bool negative = false;           // kInt
  bool boolean = false;            // kBool
  std::vector<PyValue> items;      // kTuple, kList; kDict: values
  std::vector<std::string> keys;   // kDict: keys (string keys only), parallel to items
};

const char* KindName(PyValue::Kind k) {
  switch (k) {
    case PyValue::Kind::kString: return "a string";
    case PyValue::Kind::kInt: return "an integer";
    case PyValue::Kind::kBool: return "a boolean";
    case PyValue::Kind::kNone: return "None";
    case PyValue::Kind::kTuple: return "a tuple";
    case PyValue::Kind::kList: return "a list";
    case PyValue::Kind::kDict: return "a dict";
  }
  return "?";
}

// Recursive-descent parser of strings, integers, True/False/None, tuples,
// lists and dicts with string keys: enough for any header numpy writes,
// structured dtypes included (so those are reported as unsupported dtypes
// rather than as syntax errors).
class LiteralParser {
 public:
  LiteralParser(std::string_view text, const std::string& file) : s_(text), file_(file) {}

  Status ParseAll(PyValue* out) {
    AVCTL_RETURN_IF_ERROR(Value(out, 0));
    SkipSpace();
    if (pos_ != s_.size()) return Fail("unexpected text after the header dict");
    return Status::OK();
  }

 private:
  static constexpr int kMaxDepth = 32;

  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool AtEnd() const { return pos_ >= s_.size(); }
  void SkipSpace() {
    while (!AtEnd() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool Eat(char c) {
    SkipSpace();
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  Status Fail(const std::string& msg) const {
    return Error(file_, "header", fmt::format("malformed NPY header at byte {} of the header: {}", pos_, msg));
  }

  Status Value(PyValue* out, int depth) {
    if (depth > kMaxDepth) return Fail("nested too deeply");
    SkipSpace();
    if (AtEnd()) return Fail("header ends where a value was expected");
    const char c = Peek();
    if (c == '\'' || c == '"') {
      out->kind = PyValue::Kind::kString;
      return String(&out->str);
    }
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return Integer(out);
    if (c == '(') return Sequence(out, ')', PyValue::Kind::kTuple, depth);
    if (c == '[') return Sequence(out, ']', PyValue::Kind::kList, depth);
    if (c == '{') return Dict(out, depth);
    if (Word("True")) {
      out->kind = PyValue::Kind::kBool;
      out->boolean = true;
      return Status::OK();
    }
    if (Word("False")) {
      out->kind = PyValue::Kind::kBool;
      out->boolean = false;
      return Status::OK();
    }
    if (Word("None")) {
      out->kind = PyValue::Kind::kNone;
      return Status::OK();
    }
    return Fail(fmt::format("unexpected character '{}'", c));
  }

  bool Word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    const size_t end = pos_ + w.size();
    if (end < s_.size()) {
      const char n = s_[end];
      if ((n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z') || (n >= '0' && n <= '9') || n == '_') return false;
    }
    pos_ = end;
    return true;
  }

  Status String(std::string* out) {
    const char quote = s_[pos_++];
    out->clear();
    while (true) {
      if (AtEnd()) return Fail("unterminated string");
      char c = s_[pos_++];
      if (c == quote) return Status::OK();
      if (c == '\n') return Fail("line break inside a string");
      if (c == '\\') {
        if (AtEnd()) return Fail("unterminated string");
        const char e = s_[pos_++];
        switch (e) {
          case 'n': c = '\n'; break;
          case 't': c = '\t'; break;
          case '\\': case '\'': case '"': c = e; break;
          default: return Fail(fmt::format("unsupported escape '\\{}' in a string", e));
        }
      }
      out->push_back(c);
    }
  }

  Status Integer(PyValue* out) {
    out->kind = PyValue::Kind::kInt;
    if (Peek() == '-' || Peek() == '+') out->negative = s_[pos_++] == '-';
    const size_t start = pos_;
    uint64_t v = 0;
    while (!AtEnd() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const uint64_t digit = static_cast<uint64_t>(s_[pos_] - '0');
      if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) return Fail("integer too large");
      v = v * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) return Fail("expected digits");
    if (Peek() == 'L' || Peek() == 'l') ++pos_;  // Python 2 long suffix, as old numpy wrote shapes
    out->integer = v;
    return Status::OK();
  }

  // "(" or "[" already at pos_. A parenthesised single value without a comma
  // is that value, as in Python: "(3)" is 3, "(3,)" is a tuple.
  Status Sequence(PyValue* out, char close, PyValue::Kind kind, int depth) {
    ++pos_;
    out->kind = kind;
    if (Eat(close)) return Status::OK();
    bool had_comma = false;
    while (true) {
      PyValue item;
      AVCTL_RETURN_IF_ERROR(Value(&item, depth + 1));
      out->items.push_back(std::move(item));
      if (Eat(close)) break;
      if (!Eat(',')) return Fail(fmt::format("expected ',' or '{}'", close));
      had_comma = true;
      if (Eat(close)) break;
    }
    if (kind == PyValue::Kind::kTuple && !had_comma) {
      PyValue inner = std::move(out->items.front());
      *out = std::move(inner);
    }
    return Status::OK();
  }

  Status Dict(PyValue* out, int depth) {
    ++pos_;
    out->kind = PyValue::Kind::kDict;
    if (Eat('}')) return Status::OK();
    while (true) {
      SkipSpace();
      if (Peek() != '\'' && Peek() != '"') return Fail("expected a quoted string as dict key");
      std::string key;
      AVCTL_RETURN_IF_ERROR(String(&key));
      if (!Eat(':')) return Fail(fmt::format("expected ':' after key '{}'", key));
      PyValue v;
      AVCTL_RETURN_IF_ERROR(Value(&v, depth + 1));
      for (const auto& k : out->keys) {
        if (k == key) return Error(file_, key, fmt::format("key '{}' appears twice in the header dict", key));
      }
      out->keys.push_back(std::move(key));
      out->items.push_back(std::move(v));
      if (Eat('}')) break;
      if (!Eat(',')) return Fail("expected ',' or '}' in the header dict");
      if (Eat('}')) break;
    }
    return Status::OK();
  }

  std::string_view s_;
  size_t pos_ = 0;
  const std::string& file_;
};

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // continuation bytes s[i+1..i+n] must exist
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// ---- Data ----

bool HostIsLittleEndian() {
  const uint16_t one = 1;
  uint8_t b;
  std::memcpy(&b, &one, 1);
  return b == 1;
}

template <typename T>
T Load(const unsigned char* p, bool swap) {
  unsigned char buf[sizeof(T)];
  std::memcpy(buf, p, sizeof(T));
  if (swap) {
    for (size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(buf[i], buf[sizeof(T) - 1 - i]);
  }
  T v;
  std::memcpy(&v, buf, sizeof(T));
  return v;
}

// The logical position of the k-th stored value, for error messages.
std::string Position(size_t k, const std::vector<size_t>& shape, bool fortran) {
  std::vector<size_t> idx(shape.size());
  if (fortran) {
    for (size_t d = 0; d < shape.size(); ++d) {
      idx[d] = k % shape[d];
      k /= shape[d];
    }
  } else {
    for (size_t d = shape.size(); d-- > 0;) {
      idx[d] = k % shape[d];
      k /= shape[d];
    }
  }
  if (shape.size() == 2) return fmt::format("row {} column {}", idx[0], idx[1]);
  if (shape.empty()) return "the scalar";
  if (shape.size() == 1) return fmt::format("index {}", idx[0]);
  return fmt::format("index ({})", fmt::join(idx, ", "));
}

// Fortran-order values (first index fastest) to C order (last index fastest).
std::vector<float> FortranToC(const std::vector<float>& f, const std::vector<size_t>& shape) {
  std::vector<float> c(f.size());
  if (shape.size() == 2) {
    const size_t rows = shape[0], cols = shape[1];
    for (size_t r = 0; r < rows; ++r)
      for (size_t col = 0; col < cols; ++col) c[r * cols + col] = f[col * rows + r];
    return c;
  }
  // General rank: walk the C-order output with an odometer, tracking the
  // Fortran offset of the same multi-index.
  const size_t rank = shape.size();
  std::vector<size_t> fstride(rank), idx(rank, 0);
  size_t s = 1;
  for (size_t d = 0; d < rank; ++d) {
    fstride[d] = s;
    s *= shape[d];
  }
  size_t off = 0;
  for (size_t k = 0; k < c.size(); ++k) {
    c[k] = f[off];
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d]) {
        off += fstride[d];
        break;
      }
      off -= (shape[d] - 1) * fstride[d];
      idx[d] = 0;
    }
  }
  return c;
}

}  // namespace

std::string NpyShapeString(const std::vector<size_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

Result<NpyArray> ParseNpy(std::string_view bytes, const std::string& name) {
  if (bytes.size() < kMagicLen || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0) {
    return Error(name, "magic", "not an NPY file: bad magic (expected \\x93NUMPY)");
  }
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < kMagicLen + 2) return Error(name, "version", "file ends inside the format version");
  NpyArray out;
  out.version_major = u[6];
  const int minor = u[7];
  if ((out.version_major < 1 || out.version_major > 3) || minor != 0) {
    return Error(name, "version",
                 fmt::format("unsupported NPY format version {}.{} (1.0, 2.0 and 3.0 are read)", out.version_major,
                             minor));
  }
  const size_t len_bytes = out.version_major == 1 ? 2 : 4;
  const size_t header_start = kMagicLen + 2 + len_bytes;
  if (bytes.size() < header_start) return Error(name, "header", "file ends inside the header length");
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) header_len |= static_cast<size_t>(u[8 + i]) << (8 * i);
  if (header_len > bytes.size() - header_start) {
    return Error(name, "header",
                 fmt::format("truncated header: {} bytes announced, {} present", header_len,
                             bytes.size() - header_start));
  }
  const std::string_view header = bytes.substr(header_start, header_len);
  if (out.version_major == 3 && !ValidUtf8(header)) return Error(name, "header", "version 3.0 header is not UTF-8");

  PyValue dict;
  AVCTL_RETURN_IF_ERROR(LiteralParser(header, name).ParseAll(&dict));
  if (dict.kind != PyValue::Kind::kDict) {
    return Error(name, "header", fmt::format("header is not a dict but {}", KindName(dict.kind)));
  }
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  for (size_t i = 0; i < dict.keys.size(); ++i) {
    const std::string& k = dict.keys[i];
    if (k == "descr") {
      descr = &dict.items[i];
    } else if (k == "fortran_order") {
      fortran = &dict.items[i];
    } else if (k == "shape") {
      shape = &dict.items[i];
    } else {
      return Error(name, k, fmt::format("unexpected key '{}' (the header holds descr, fortran_order and shape)", k));
    }
  }
  if (!descr) return Error(name, "descr", "header has no 'descr' key");
  if (!fortran) return Error(name, "fortran_order", "header has no 'fortran_order' key");
  if (!shape) return Error(name, "shape", "header has no 'shape' key");

  // descr
  if (descr->kind == PyValue::Kind::kList) {
    return Error(name, "descr", "unsupported dtype: structured (record) arrays are not read");
  }
  if (descr->kind != PyValue::Kind::kString) {
    return Error(name, "descr", fmt::format("'descr' is {}, not a dtype string", KindName(descr->kind)));
  }
  out.descr = descr->str;
  const std::string& d = out.descr;
  if (d.size() != 3 || (d[0] != '<' && d[0] != '>' && d[0] != '=' && d[0] != '|') || d[1] != 'f' ||
      (d[2] != '2' && d[2] != '4' && d[2] != '8')) {
    return Error(name, "descr",
                 fmt::format("unsupported dtype '{}' (float16, float32 and float64 are read: <f2 <f4 <f8 or "
                             "big-endian >f2 >f4 >f8)",
                             d));
  }
  const size_t item = static_cast<size_t>(d[2] - '0');
  const bool file_little = d[0] == '<' || (d[0] != '>' && HostIsLittleEndian());
  const bool swap = file_little != HostIsLittleEndian();

  // fortran_order
  if (fortran->kind != PyValue::Kind::kBool) {
    return Error(name, "fortran_order", fmt::format("'fortran_order' is {}, not True or False", KindName(fortran->kind)));
  }
  out.fortran_order = fortran->boolean;

  // shape
  if (shape->kind != PyValue::Kind::kTuple) {
    return Error(name, "shape", fmt::format("'shape' is {}, not a tuple", KindName(shape->kind)));
  }
  for (const PyValue& dim : shape->items) {
    if (dim.kind != PyValue::Kind::kInt || dim.negative ||
        static_cast<uint64_t>(static_cast<size_t>(dim.integer)) != dim.integer) {
      return Error(name, "shape", "'shape' holds something other than non-negative integers");
    }
    out.shape.push_back(static_cast<size_t>(dim.integer));
  }
  size_t count = 1;
  bool overflow = false;
  for (size_t s : out.shape) {
    if (s == 0) {
      return Error(name, "shape",
                   fmt::format("array has no values (shape {}); empty arrays are not accepted",
                               NpyShapeString(out.shape)));
    }
    if (count > std::numeric_limits<size_t>::max() / s) overflow = true;
    count *= s;
  }
  if (overflow || count > std::numeric_limits<size_t>::max() / item) {
    return Error(name, "shape", fmt::format("shape {} is too large", NpyShapeString(out.shape)));
  }

  // data
  const size_t data_start = header_start + header_len;
  const size_t present = bytes.size() - data_start;
  const size_t expected = count * item;
  if (present != expected) {
    return Error(name, "data",
                 fmt::format("data holds {} bytes but shape {} of '{}' needs {} ({})", present,
                             NpyShapeString(out.shape), d, expected,
                             present < expected ? "truncated" : "trailing bytes"));
  }
  const unsigned char* p = u + data_start;
  out.data.resize(count);
  if (item == 2) {
    std::vector<uint16_t> halves(count);
    std::memcpy(halves.data(), p, expected);
    if (swap) {
      for (uint16_t& h : halves) h = static_cast<uint16_t>(h >> 8 | h << 8);
    }
    HalvesToFloats(halves.data(), out.data.data(), count);
  } else if (item == 4) {
    if (swap) {
      for (size_t i = 0; i < count; ++i) out.data[i] = Load<float>(p + 4 * i, true);
    } else {
      std::memcpy(out.data.data(), p, expected);
    }
  } else {
    for (size_t i = 0; i < count; ++i) {
      const double v = Load<double>(p + 8 * i, swap);
      out.data[i] = static_cast<float>(v);
      if (std::isfinite(v) && !std::isfinite(out.data[i])) {
        return Error(name, "data",
                     fmt::format("value at {} is {}, beyond float32's range",
                                 Position(i, out.shape, out.fortran_order), v));
      }
    }
  }
  for (size_t i = 0; i < count; ++i) {
    if (!std::isfinite(out.data[i])) {
      return Error(name, "data",
                   fmt::format("value at {} is {}", Position(i, out.shape, out.fortran_order), out.data[i]));
    }
  }
  if (out.fortran_order && out.shape.size() >= 2) out.data = FortranToC(out.data, out.shape);
  return out;
}

Result<NpyArray> ReadNpyFile(const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  return ParseNpy(bytes, path);
}

Status CheckFramesByDims(const NpyArray& a, size_t expected_dims, const std::string& name) {
  const std::string expected = fmt::format("(frames, {})", expected_dims > 0 ? std::to_string(expected_dims) : "dims");
  if (a.shape.size() != 2 || (expected_dims > 0 && a.shape[1] != expected_dims)) {
    return Error(name, "shape",
                 fmt::format("expected shape {}, found {}", expected, NpyShapeString(a.shape)));
  }
  if (a.shape[0] == 0) {
    return Error(name, "shape", fmt::format("expected shape {}, found {}: zero frames", expected,
                                            NpyShapeString(a.shape)));
  }
  return Status::OK();
}

Result<NpyArray> ReadNpyFrames(const std::string& path, size_t expected_dims) {
  AVCTL_ASSIGN_OR_RETURN(NpyArray a, ReadNpyFile(path));
  AVCTL_RETURN_IF_ERROR(CheckFramesByDims(a, expected_dims, path));
  return a;
}

}  // namespace avctl
