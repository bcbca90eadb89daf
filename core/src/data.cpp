#include "subinterp/data.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <unordered_set>

#include "bigint.hpp"
#include "subinterp/error.hpp"
#include "subinterp/utf8.hpp"

namespace subinterp {

const char* kind_name(DataKind kind) noexcept {
    switch (kind) {
        case DataKind::None: return "none";
        case DataKind::Bool: return "bool";
        case DataKind::Int: return "int";
        case DataKind::Float: return "float";
        case DataKind::Str: return "str";
        case DataKind::Bytes: return "bytes";
        case DataKind::Tuple: return "tuple";
        case DataKind::List: return "list";
        case DataKind::Dict: return "dict";
        case DataKind::Buffer: return "buffer";
        case DataKind::Queue: return "queue";
        case DataKind::Interpreter: return "interpreter";
        case DataKind::Pickled: return "pickled";
    }
    return "invalid";
}

// --- DataPtr ---------------------------------------------------------------

DataPtr DataPtr::adopt(Data* data) noexcept {
    DataPtr ptr;
    ptr.data_ = data;
    return ptr;
}

DataPtr DataPtr::share(const Data* data) noexcept {
    if (data) data->retain();
    return adopt(const_cast<Data*>(data));
}

DataPtr::DataPtr(const DataPtr& other) noexcept : data_(other.data_) {
    if (data_) data_->retain();
}

DataPtr& DataPtr::operator=(DataPtr other) noexcept {
    std::swap(data_, other.data_);
    return *this;
}

DataPtr::~DataPtr() {
    if (data_) data_->release();
}

void Data::release() const noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

// --- construction ------------------------------------------------------------

DataPtr Data::make(DataKind kind, Value value, int depth) {
    return DataPtr::adopt(new Data(kind, std::move(value), depth));
}

namespace {

int depth_above(int deepest_item) {
    if (deepest_item + 1 > Data::kMaxDepth) {
        throw Error(ErrorCode::InvalidArgument,
                    "containers nest deeper than " + std::to_string(Data::kMaxDepth) + " levels");
    }
    return deepest_item + 1;
}

}  // namespace

int Data::container_depth(const DataItems& items) {
    int deepest = 0;
    for (const auto& item : items) {
        if (!item) throw Error(ErrorCode::InvalidArgument, "container item is NULL");
        deepest = std::max(deepest, item->depth());
    }
    return depth_above(deepest);
}

int Data::dict_depth(const DataEntries& entries) {
    int deepest = 0;
    for (const auto& [key, value] : entries) {
        if (!key || !value) throw Error(ErrorCode::InvalidArgument, "dict key or value is NULL");
        if (!key->is_hashable()) {
            throw Error(ErrorCode::InvalidArgument,
                        std::string("dict key of kind '") + kind_name(key->kind()) + "' is not hashable");
        }
        deepest = std::max({deepest, key->depth(), value->depth()});
    }
    return depth_above(deepest);
}

DataPtr Data::none() { return make(DataKind::None, std::monostate{}); }
DataPtr Data::boolean(bool value) { return make(DataKind::Bool, value); }
DataPtr Data::integer(int64_t value) { return make(DataKind::Int, value); }
DataPtr Data::integer_from_bytes(std::string_view little_endian) {
    if (const auto small = bigint::to_int64(little_endian)) return integer(*small);
    return make(DataKind::Int, BigInt{bigint::minimal(little_endian)});
}

DataPtr Data::buffer(BufferView view) {
    if (!view.buffer || view.offset + view.length > view.buffer->size() || view.offset + view.length < view.offset) {
        throw Error(ErrorCode::InvalidArgument, "buffer view out of its buffer's bounds");
    }
    view.readonly = view.readonly || view.buffer->readonly();
    return make(DataKind::Buffer, std::move(view));
}

DataPtr Data::pickled(std::string_view pickle_bytes) {
    return make(DataKind::Pickled, std::string(pickle_bytes));
}

DataPtr Data::interpreter(int64_t id) { return make(DataKind::Interpreter, id); }

DataPtr Data::queue(QueueHandle handle) {
    if (!handle) throw Error(ErrorCode::InvalidArgument, "queue handle is empty");
    return make(DataKind::Queue, std::move(handle));
}

DataPtr Data::floating(double value) { return make(DataKind::Float, value); }
DataPtr Data::bytes(std::string_view bytes) { return make(DataKind::Bytes, std::string(bytes)); }
DataPtr Data::tuple(DataItems items) {
    const int depth = container_depth(items);
    return make(DataKind::Tuple, std::move(items), depth);
}

DataPtr Data::list(DataItems items) {
    const int depth = container_depth(items);
    return make(DataKind::List, std::move(items), depth);
}

DataPtr Data::str(std::string_view utf8) {
    utf8::require_valid(utf8, "str");
    return str_from_valid_utf8(utf8);
}

DataPtr Data::str_from_valid_utf8(std::string_view utf8) { return make(DataKind::Str, std::string(utf8)); }

namespace {

struct DataHash {
    std::size_t operator()(const Data* data) const noexcept { return data->hash(); }
};
struct DataEqual {
    bool operator()(const Data* a, const Data* b) const noexcept { return a->equals(*b); }
};

}  // namespace

DataPtr Data::dict(DataEntries entries) {
    const int depth = dict_depth(entries);
    std::unordered_set<const Data*, DataHash, DataEqual> seen;
    seen.reserve(entries.size());
    for (const auto& [key, value] : entries) {
        if (!seen.insert(key.get()).second) {
            throw Error(ErrorCode::InvalidArgument, "duplicate dict key " + key->repr());
        }
    }
    return make(DataKind::Dict, std::move(entries), depth);
}

DataPtr Data::dict_of_distinct_keys(DataEntries entries) {
    const int depth = dict_depth(entries);
    return make(DataKind::Dict, std::move(entries), depth);
}

// --- access --------------------------------------------------------------------

void Data::wrong_kind(const char* wanted) const {
    throw Error(ErrorCode::Type, std::string("expected ") + wanted + ", got " + kind_name(kind_));
}

bool Data::as_bool() const {
    if (kind_ != DataKind::Bool) wrong_kind("bool");
    return std::get<bool>(value_);
}

int64_t Data::as_int() const {
    if (kind_ != DataKind::Int) wrong_kind("int");
    if (is_big_int()) {
        throw Error(ErrorCode::Overflow, "int " + repr() + " does not fit in 64 bits (read its exact bytes instead)");
    }
    return std::get<int64_t>(value_);
}

std::string Data::int_bytes() const {
    if (kind_ != DataKind::Int) wrong_kind("int");
    return is_big_int() ? std::get<BigInt>(value_).bytes : bigint::from_int64(std::get<int64_t>(value_));
}

const BufferView& Data::as_buffer() const {
    if (kind_ != DataKind::Buffer) wrong_kind("buffer");
    return std::get<BufferView>(value_);
}

std::string_view Data::as_pickled() const {
    if (kind_ != DataKind::Pickled) wrong_kind("pickled");
    return std::get<std::string>(value_);
}

const QueueHandle& Data::as_queue() const {
    if (kind_ != DataKind::Queue) wrong_kind("queue");
    return std::get<QueueHandle>(value_);
}

int64_t Data::as_interpreter() const {
    if (kind_ != DataKind::Interpreter) wrong_kind("interpreter");
    return std::get<int64_t>(value_);
}

double Data::as_float() const {
    if (kind_ != DataKind::Float) wrong_kind("float");
    return std::get<double>(value_);
}

std::string_view Data::as_str() const {
    if (kind_ != DataKind::Str) wrong_kind("str");
    return std::get<std::string>(value_);
}

std::string_view Data::as_bytes() const {
    if (kind_ != DataKind::Bytes) wrong_kind("bytes");
    return std::get<std::string>(value_);
}

const DataItems& Data::items() const {
    if (kind_ != DataKind::Tuple && kind_ != DataKind::List) wrong_kind("tuple or list");
    return std::get<DataItems>(value_);
}

const DataEntries& Data::entries() const {
    if (kind_ != DataKind::Dict) wrong_kind("dict");
    return std::get<DataEntries>(value_);
}

std::size_t Data::size() const {
    if (kind_ == DataKind::Dict) return entries().size();
    if (kind_ == DataKind::Tuple || kind_ == DataKind::List) return items().size();
    wrong_kind("tuple, list or dict");
}

// --- equality, hashing, repr ----------------------------------------------------

namespace {

uint64_t float_bits(double value) {
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
}

}  // namespace

bool Data::equals(const Data& other) const noexcept {
    if (kind_ != other.kind_) return false;
    switch (kind_) {
        case DataKind::Float: return float_bits(std::get<double>(value_)) == float_bits(std::get<double>(other.value_));
        case DataKind::Tuple:
        case DataKind::List: {
            const auto& a = std::get<DataItems>(value_);
            const auto& b = std::get<DataItems>(other.value_);
            if (a.size() != b.size()) return false;
            for (std::size_t i = 0; i < a.size(); ++i) {
                if (!a[i]->equals(*b[i])) return false;
            }
            return true;
        }
        case DataKind::Dict: {
            const auto& a = std::get<DataEntries>(value_);
            const auto& b = std::get<DataEntries>(other.value_);
            if (a.size() != b.size()) return false;
            for (std::size_t i = 0; i < a.size(); ++i) {
                if (!a[i].first->equals(*b[i].first) || !a[i].second->equals(*b[i].second)) return false;
            }
            return true;
        }
        case DataKind::None: return true;
        case DataKind::Bool: return std::get<bool>(value_) == std::get<bool>(other.value_);
        case DataKind::Int:
            // Each int has one representation: int64_t when it fits, else BigInt.
            if (is_big_int() != other.is_big_int()) return false;
            if (is_big_int()) return std::get<BigInt>(value_) == std::get<BigInt>(other.value_);
            return std::get<int64_t>(value_) == std::get<int64_t>(other.value_);
        case DataKind::Interpreter: return std::get<int64_t>(value_) == std::get<int64_t>(other.value_);
        case DataKind::Queue: return std::get<QueueHandle>(value_).id() == std::get<QueueHandle>(other.value_).id();
        case DataKind::Str:
        case DataKind::Bytes:
        case DataKind::Pickled: return std::get<std::string>(value_) == std::get<std::string>(other.value_);
        case DataKind::Buffer: {
            // The same window on the same memory: contents are shared and
            // mutable, so equal contents would not make two buffers equal.
            const auto& a = std::get<BufferView>(value_);
            const auto& b = std::get<BufferView>(other.value_);
            return a.buffer == b.buffer && a.offset == b.offset && a.length == b.length && a.readonly == b.readonly;
        }
        default: return false;
    }
}

bool Data::is_hashable() const noexcept {
    switch (kind_) {
        case DataKind::List:
        case DataKind::Dict:
        case DataKind::Buffer: return false;
        case DataKind::Tuple:
            for (const auto& item : std::get<DataItems>(value_)) {
                if (!item->is_hashable()) return false;
            }
            return true;
        default: return true;
    }
}

std::size_t Data::hash() const noexcept {
    std::size_t seed = static_cast<std::size_t>(kind_) * 0x9E3779B97F4A7C15ull;
    const auto mix = [&seed](std::size_t h) { seed ^= h + 0x9E3779B97F4A7C15ull + (seed << 6) + (seed >> 2); };
    switch (kind_) {
        case DataKind::Bool: mix(std::get<bool>(value_)); break;
        case DataKind::Int:
            mix(is_big_int() ? std::hash<std::string>{}(std::get<BigInt>(value_).bytes)
                             : std::hash<int64_t>{}(std::get<int64_t>(value_)));
            break;
        case DataKind::Interpreter: mix(std::hash<int64_t>{}(std::get<int64_t>(value_))); break;
        case DataKind::Queue: mix(std::hash<int64_t>{}(std::get<QueueHandle>(value_).id())); break;
        case DataKind::Float: mix(std::hash<uint64_t>{}(float_bits(std::get<double>(value_)))); break;
        case DataKind::Str:
        case DataKind::Bytes:
        case DataKind::Pickled: mix(std::hash<std::string>{}(std::get<std::string>(value_))); break;
        case DataKind::Tuple:
            for (const auto& item : std::get<DataItems>(value_)) mix(item->hash());
            break;
        default: break;
    }
    return seed;
}

namespace {

// Python's repr(float): the shortest digits that read back exactly, in
// positional notation for exponents -4..15 and scientific notation otherwise.
std::string repr_float(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    char buffer[40];
    for (int precision = 0; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*e", precision, value);
        if (std::strtod(buffer, nullptr) == value) break;
    }
    // buffer is "[-]d[.ddd]e[+-]XX": split into sign, digits and exponent.
    std::string text = buffer;
    const std::size_t e = text.find('e');
    const int exponent = std::stoi(text.substr(e + 1));
    const bool negative = text[0] == '-';
    std::string digits;
    for (char c : text.substr(0, e)) {
        if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
    }
    std::string out = negative ? "-" : "";
    if (exponent >= -4 && exponent < 16) {
        const int point = exponent + 1;  // digits before the decimal point
        if (point <= 0) {
            out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
        } else if (point >= static_cast<int>(digits.size())) {
            out += digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, point) + "." + digits.substr(point);
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exponent_text[16];
    std::snprintf(exponent_text, sizeof exponent_text, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exponent_text;
}

// Python-like quoting: single quotes unless the text has a single quote and no
// double quote; non-ASCII characters of a str are kept as they are (UTF-8).
std::string repr_text(std::string_view text, bool is_bytes) {
    const bool use_double = text.find('\'') != std::string_view::npos && text.find('"') == std::string_view::npos;
    const char quote = use_double ? '"' : '\'';
    std::string out = is_bytes ? "b" : "";
    out += quote;
    for (unsigned char c : text) {
        if (c == quote || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7F || (is_bytes && c >= 0x80)) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\x%02x", c);
            out += buffer;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + quote;
}

}  // namespace

std::string Data::repr() const {
    switch (kind_) {
        case DataKind::None: return "None";
        case DataKind::Bool: return std::get<bool>(value_) ? "True" : "False";
        case DataKind::Int:
            return is_big_int() ? bigint::to_decimal(std::get<BigInt>(value_).bytes)
                                : std::to_string(std::get<int64_t>(value_));
        case DataKind::Float: return repr_float(std::get<double>(value_));
        case DataKind::Str: return repr_text(std::get<std::string>(value_), false);
        case DataKind::Bytes: return repr_text(std::get<std::string>(value_), true);
        case DataKind::Tuple:
        case DataKind::List: {
            const auto& items = std::get<DataItems>(value_);
            const bool is_tuple = kind_ == DataKind::Tuple;
            std::string out = is_tuple ? "(" : "[";
            for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i]->repr();
            if (is_tuple && items.size() == 1) out += ",";
            return out + (is_tuple ? ")" : "]");
        }
        case DataKind::Dict: {
            std::string out = "{";
            const auto& entries = std::get<DataEntries>(value_);
            for (std::size_t i = 0; i < entries.size(); ++i) {
                out += (i ? ", " : "") + entries[i].first->repr() + ": " + entries[i].second->repr();
            }
            return out + "}";
        }
        case DataKind::Buffer: {
            const auto& view = std::get<BufferView>(value_);
            return "<buffer " + std::to_string(view.length) + " bytes, " + (view.readonly ? "read-only>" : "writable>");
        }
        case DataKind::Pickled: return "<pickled " + std::to_string(std::get<std::string>(value_).size()) + " bytes>";
        case DataKind::Interpreter: return "<interpreter " + std::to_string(std::get<int64_t>(value_)) + ">";
        case DataKind::Queue: return "<queue " + std::to_string(std::get<QueueHandle>(value_).id()) + ">";
        default: return std::string("<") + kind_name(kind_) + ">";
    }
}

}  // namespace subinterp
