// The portable value model: immutable, reference-counted values that own no
// PyObject, so they can be built, read and freed on any thread.
#pragma once

#include <atomic>
#include <memory>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "subinterp/buffer.hpp"
#include "subinterp/queue_handle.hpp"

namespace subinterp {

// Values equal SUBINTERP_DATA_* of subinterp.h.
enum class DataKind : int32_t {
    None = 0,
    Bool = 1,
    Int = 2,
    Float = 3,
    Str = 4,
    Bytes = 5,
    Tuple = 6,
    List = 7,
    Dict = 8,
    Buffer = 9,
    Queue = 10,
    Interpreter = 11,
    Pickled = 12,
};

const char* kind_name(DataKind kind) noexcept;

class Data;

// Owning pointer to a Data, like boost::intrusive_ptr: the reference count
// lives in the value so the C ABI can hand out plain pointers.
class DataPtr {
public:
    DataPtr() = default;
    static DataPtr adopt(Data* data) noexcept;        // takes over one reference
    static DataPtr share(const Data* data) noexcept;  // adds a reference
    DataPtr(const DataPtr& other) noexcept;
    DataPtr(DataPtr&& other) noexcept : data_(std::exchange(other.data_, nullptr)) {}
    DataPtr& operator=(DataPtr other) noexcept;
    ~DataPtr();

    const Data* get() const noexcept { return data_; }
    const Data& operator*() const noexcept { return *data_; }
    const Data* operator->() const noexcept { return data_; }
    explicit operator bool() const noexcept { return data_ != nullptr; }
    Data* release() noexcept { return std::exchange(data_, nullptr); }

private:
    Data* data_ = nullptr;
};

// An int beyond int64_t, exactly: two's complement, little-endian, minimal.
struct BigInt {
    std::string bytes;
    bool operator==(const BigInt& other) const { return bytes == other.bytes; }
};

using DataItems = std::vector<DataPtr>;
using DataEntries = std::vector<std::pair<DataPtr, DataPtr>>;

class Data {
public:
    // Containers nest at most this deep (a scalar has depth 0; an empty
    // container 1). Every walk over a value -- destruction, repr, equality,
    // conversion -- recurses, so the limit keeps them off the end of the stack.
    static constexpr int kMaxDepth = 256;
    // Values converted from Python nest at most this deep (which also stops
    // self-referencing containers), leaving hosts room to wrap them in
    // argument tuples, dicts and queue items without hitting kMaxDepth.
    static constexpr int kMaxPythonDepth = 200;

    static DataPtr none();
    static DataPtr boolean(bool value);
    static DataPtr integer(int64_t value);
    // Any integer from its two's-complement little-endian bytes; values that
    // fit in int64_t are stored as such, so each int has one representation.
    static DataPtr integer_from_bytes(std::string_view little_endian);
    static DataPtr floating(double value);
    static DataPtr str(std::string_view utf8);  // throws InvalidArgument on bad UTF-8
    // For text already known to be valid UTF-8 (CPython's own encoding of a
    // str): validating it again costs more than copying it.
    static DataPtr str_from_valid_utf8(std::string_view utf8);
    static DataPtr bytes(std::string_view bytes);
    static DataPtr tuple(DataItems items);
    static DataPtr list(DataItems items);
    static DataPtr dict(DataEntries entries);  // throws on unhashable or duplicate keys
    // For keys already known distinct (a Python dict's): skips the duplicate
    // check, which costs more than the rest of the conversion. Structurally
    // equal keys can only be distinct NaN objects, which convert back fine.
    static DataPtr dict_of_distinct_keys(DataEntries entries);
    static DataPtr buffer(BufferView view);
    static DataPtr pickled(std::string_view pickle_bytes);
    static DataPtr interpreter(int64_t id);
    // A hold on a queue: the queue lives at least as long as the value.
    static DataPtr queue(QueueHandle handle);  // throws InvalidArgument for an empty handle
    // Containers throw Error(InvalidArgument) on a null item or when nesting
    // deeper than kMaxDepth.

    DataKind kind() const noexcept { return kind_; }

    // Typed accessors throw Error(Type) naming both kinds on a mismatch.
    bool as_bool() const;
    int64_t as_int() const;  // Error(Overflow) for a big int
    bool is_big_int() const noexcept { return std::holds_alternative<BigInt>(value_); }
    std::string int_bytes() const;  // any int: minimal two's complement, little-endian
    double as_float() const;
    std::string_view as_str() const;
    std::string_view as_bytes() const;
    const BufferView& as_buffer() const;
    std::string_view as_pickled() const;
    int64_t as_interpreter() const;
    const QueueHandle& as_queue() const;
    const DataItems& items() const;      // tuple or list
    const DataEntries& entries() const;  // dict
    std::size_t size() const;            // tuple, list or dict

    int depth() const noexcept { return depth_; }
    bool equals(const Data& other) const noexcept;
    std::size_t hash() const noexcept;  // consistent with equals(); hashable kinds only
    bool is_hashable() const noexcept;
    std::string repr() const;

    void retain() const noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() const noexcept;

private:
    // The kind says which alternative is used: int64_t holds Int and
    // Interpreter ids; std::string holds Str, Bytes and Pickled.
    using Value = std::variant<std::monostate, bool, int64_t, BigInt, double, std::string, DataItems, DataEntries,
                               BufferView, QueueHandle>;
    Data(DataKind kind, Value value, int depth) : kind_(kind), depth_(depth), value_(std::move(value)) {}
    static DataPtr make(DataKind kind, Value value, int depth = 0);
    static int container_depth(const DataItems& items);
    static int dict_depth(const DataEntries& entries);  // also checks the keys are hashable
    [[noreturn]] void wrong_kind(const char* wanted) const;

    mutable std::atomic<uint32_t> refs_{1};
    DataKind kind_;
    int depth_;
    Value value_;
};

}  // namespace subinterp
