// subinterp_data_*: the portable value model through the C ABI.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "guard.hpp"
#include "subinterp/data.hpp"

using subinterp::Data;
using subinterp::DataPtr;
using subinterp::capi::guarded;
using subinterp::capi::require;

static_assert(SUBINTERP_DATA_PICKLED == static_cast<int>(subinterp::DataKind::Pickled));
static_assert(SUBINTERP_DATA_DICT == static_cast<int>(subinterp::DataKind::Dict));

namespace {

const Data* core(const subinterp_data* data) { return reinterpret_cast<const Data*>(data); }

subinterp_data* handed_out(DataPtr data) { return reinterpret_cast<subinterp_data*>(data.release()); }

// Runs a constructor and stores its new reference in *out.
template <class Make>
subinterp_status construct(subinterp_data** out, subinterp_error** err, Make&& make) {
    return guarded(err, [&] {
        subinterp_data*& result = require(out, "out");
        result = handed_out(make());
    });
}

const Data& require_data(const subinterp_data* data) { return require(core(data), "data"); }

// `len` bytes at `bytes`, which may be NULL only when len is 0.
std::string_view bytes_view(const void* bytes, size_t len, const char* name) {
    if (len > 0) subinterp::capi::require_non_null(bytes, name);
    return std::string_view(bytes ? static_cast<const char*>(bytes) : "", len);
}

subinterp::DataItems items_from(const subinterp_data* const* items, size_t len, const char* name) {
    if (len > 0) subinterp::capi::require_non_null(items, name);
    subinterp::DataItems result;
    result.reserve(len);
    for (size_t i = 0; i < len; ++i) {
        if (!items[i]) throw subinterp::Error(subinterp::ErrorCode::InvalidArgument,
                                   std::string(name) + "[" + std::to_string(i) + "] is NULL");
        result.push_back(DataPtr::share(core(items[i])));
    }
    return result;
}

void require_index(size_t index, size_t size) {
    if (index >= size) {
        throw subinterp::Error(subinterp::ErrorCode::Index,
                               "index " + std::to_string(index) + " out of range for length " + std::to_string(size));
    }
}

}  // namespace

extern "C" {

subinterp_status subinterp_data_new_none(subinterp_data** out, subinterp_error** err) {
    return construct(out, err, [] { return Data::none(); });
}

subinterp_status subinterp_data_new_bool(int value, subinterp_data** out, subinterp_error** err) {
    return construct(out, err, [&] { return Data::boolean(value != 0); });
}

subinterp_status subinterp_data_new_int(int64_t value, subinterp_data** out, subinterp_error** err) {
    return construct(out, err, [&] { return Data::integer(value); });
}

subinterp_status subinterp_data_new_int_bytes(const void* bytes, size_t len, subinterp_data** out,
                                              subinterp_error** err) {
    return construct(out, err, [&] { return Data::integer_from_bytes(bytes_view(bytes, len, "bytes")); });
}

subinterp_status subinterp_data_new_float(double value, subinterp_data** out, subinterp_error** err) {
    return construct(out, err, [&] { return Data::floating(value); });
}

subinterp_status subinterp_data_new_str(const char* utf8, size_t len, subinterp_data** out, subinterp_error** err) {
    return construct(out, err, [&] { return Data::str(bytes_view(utf8, len, "utf8")); });
}

subinterp_status subinterp_data_new_bytes(const void* bytes, size_t len, subinterp_data** out,
                                          subinterp_error** err) {
    return construct(out, err, [&] { return Data::bytes(bytes_view(bytes, len, "bytes")); });
}

subinterp_status subinterp_data_new_tuple(const subinterp_data* const* items, size_t len, subinterp_data** out,
                                          subinterp_error** err) {
    return construct(out, err, [&] { return Data::tuple(items_from(items, len, "items")); });
}

subinterp_status subinterp_data_new_list(const subinterp_data* const* items, size_t len, subinterp_data** out,
                                         subinterp_error** err) {
    return construct(out, err, [&] { return Data::list(items_from(items, len, "items")); });
}

subinterp_status subinterp_data_new_dict(const subinterp_data* const* keys, const subinterp_data* const* values,
                                         size_t len, subinterp_data** out, subinterp_error** err) {
    return construct(out, err, [&] {
        const subinterp::DataItems key_items = items_from(keys, len, "keys");
        const subinterp::DataItems value_items = items_from(values, len, "values");
        subinterp::DataEntries entries;
        entries.reserve(len);
        for (size_t i = 0; i < len; ++i) entries.emplace_back(key_items[i], value_items[i]);
        return Data::dict(std::move(entries));
    });
}

subinterp_status subinterp_data_new_buffer(size_t size, void** data, subinterp_data** out, subinterp_error** err) {
    return construct(out, err, [&] {
        void*& memory = require(data, "data");
        auto buffer = subinterp::Buffer::allocate(size);
        void* address = buffer->data();
        DataPtr value = Data::buffer(subinterp::BufferView{std::move(buffer), 0, size, false});
        memory = address;  // only once nothing can fail any more
        return value;
    });
}

subinterp_status subinterp_data_new_buffer_external(void* data, size_t size, int readonly,
                                                    subinterp_buffer_release release, void* context,
                                                    subinterp_data** out, subinterp_error** err) {
    return construct(out, err, [&] {
        require(out, "out");
        auto buffer = subinterp::Buffer::adopt(data, size, readonly != 0, release, context);
        try {
            return Data::buffer(subinterp::BufferView{buffer, 0, size, readonly != 0});
        } catch (...) {
            buffer->disown();  // the caller keeps its memory: no release on failure
            throw;
        }
    });
}

subinterp_status subinterp_data_new_pickled(const void* bytes, size_t len, subinterp_data** out,
                                            subinterp_error** err) {
    return construct(out, err, [&] { return Data::pickled(bytes_view(bytes, len, "bytes")); });
}

subinterp_status subinterp_data_new_interpreter(int64_t id, subinterp_data** out, subinterp_error** err) {
    return construct(out, err, [&] { return Data::interpreter(id); });
}

subinterp_data* subinterp_data_ref(const subinterp_data* data) {
    return handed_out(DataPtr::share(core(data)));
}

void subinterp_data_free(subinterp_data* data) { DataPtr::adopt(const_cast<Data*>(core(data))); }

subinterp_data_kind subinterp_data_get_kind(const subinterp_data* data) {
    return data ? static_cast<subinterp_data_kind>(core(data)->kind()) : SUBINTERP_DATA_INVALID;
}

const char* subinterp_data_kind_name(subinterp_data_kind kind) {
    const int value = subinterp::capi::enum_value(kind);
    if (value < SUBINTERP_DATA_NONE || value > SUBINTERP_DATA_PICKLED) return "invalid";
    return subinterp::kind_name(static_cast<subinterp::DataKind>(value));
}

subinterp_status subinterp_data_get_bool(const subinterp_data* data, int* value, subinterp_error** err) {
    return guarded(err, [&] {
        int& out = require(value, "value");
        out = require_data(data).as_bool() ? 1 : 0;
    });
}

subinterp_status subinterp_data_get_int(const subinterp_data* data, int64_t* value, subinterp_error** err) {
    return guarded(err, [&] {
        int64_t& out = require(value, "value");
        out = require_data(data).as_int();
    });
}

subinterp_status subinterp_data_get_int_bytes(const subinterp_data* data, void* bytes, size_t capacity, size_t* len,
                                              subinterp_error** err) {
    return guarded(err, [&] {
        size_t& needed = require(len, "len");
        if (capacity > 0) subinterp::capi::require_non_null(bytes, "bytes");
        const std::string value = require_data(data).int_bytes();
        if (capacity > 0) std::memcpy(bytes, value.data(), std::min(capacity, value.size()));
        needed = value.size();
    });
}

subinterp_status subinterp_data_get_buffer(const subinterp_data* data, void** memory, size_t* size, int* readonly,
                                           subinterp_error** err) {
    return guarded(err, [&] {
        void*& out = require(memory, "memory");
        const subinterp::BufferView& view = require_data(data).as_buffer();
        out = view.data();
        if (size) *size = view.length;
        if (readonly) *readonly = view.readonly ? 1 : 0;
    });
}

subinterp_status subinterp_data_get_pickled(const subinterp_data* data, const void** bytes, size_t* len,
                                            subinterp_error** err) {
    return guarded(err, [&] {
        subinterp::capi::require_non_null(bytes, "bytes");
        size_t& size = require(len, "len");
        const std::string_view blob = require_data(data).as_pickled();
        *bytes = blob.data();
        size = blob.size();
    });
}

subinterp_status subinterp_data_new_queue(int64_t id, subinterp_data** out, subinterp_error** err) {
    return construct(out, err, [&] { return Data::queue(subinterp::QueueHandle::open(id)); });
}

subinterp_status subinterp_data_get_queue(const subinterp_data* data, int64_t* id, subinterp_error** err) {
    return guarded(err, [&] {
        int64_t& out = require(id, "id");
        out = require_data(data).as_queue().id();
    });
}

subinterp_status subinterp_data_get_interpreter(const subinterp_data* data, int64_t* id, subinterp_error** err) {
    return guarded(err, [&] {
        int64_t& out = require(id, "id");
        out = require_data(data).as_interpreter();
    });
}

subinterp_status subinterp_data_get_float(const subinterp_data* data, double* value, subinterp_error** err) {
    return guarded(err, [&] {
        double& out = require(value, "value");
        out = require_data(data).as_float();
    });
}

subinterp_status subinterp_data_get_str(const subinterp_data* data, const char** utf8, size_t* len,
                                        subinterp_error** err) {
    return guarded(err, [&] {
        const char*& out = require(utf8, "utf8");
        const std::string_view text = require_data(data).as_str();
        out = text.data();  // std::string storage: NUL-terminated
        if (len) *len = text.size();
    });
}

subinterp_status subinterp_data_get_bytes(const subinterp_data* data, const void** bytes, size_t* len,
                                          subinterp_error** err) {
    return guarded(err, [&] {
        subinterp::capi::require_non_null(bytes, "bytes");
        const void*& out = *bytes;
        size_t& size = require(len, "len");
        const std::string_view contents = require_data(data).as_bytes();
        out = contents.data();
        size = contents.size();
    });
}

subinterp_status subinterp_data_get_len(const subinterp_data* data, size_t* len, subinterp_error** err) {
    return guarded(err, [&] {
        size_t& out = require(len, "len");
        out = require_data(data).size();
    });
}

subinterp_status subinterp_data_get_item(const subinterp_data* data, size_t index, const subinterp_data** item,
                                         subinterp_error** err) {
    return guarded(err, [&] {
        const subinterp_data*& out = require(item, "item");
        const auto& items = require_data(data).items();
        require_index(index, items.size());
        out = reinterpret_cast<const subinterp_data*>(items[index].get());
    });
}

subinterp_status subinterp_data_get_entry(const subinterp_data* data, size_t index, const subinterp_data** key,
                                          const subinterp_data** value, subinterp_error** err) {
    return guarded(err, [&] {
        const auto& entries = require_data(data).entries();
        require_index(index, entries.size());
        if (key) *key = reinterpret_cast<const subinterp_data*>(entries[index].first.get());
        if (value) *value = reinterpret_cast<const subinterp_data*>(entries[index].second.get());
    });
}

int subinterp_data_equal(const subinterp_data* a, const subinterp_data* b) {
    if (!a || !b) return a == b;
    return core(a)->equals(*core(b)) ? 1 : 0;
}

subinterp_status subinterp_data_repr(const subinterp_data* data, char** repr, subinterp_error** err) {
    return guarded(err, [&] {
        char*& out = require(repr, "repr");
        const std::string text = require_data(data).repr();
        char* copy = static_cast<char*>(std::malloc(text.size() + 1));
        if (!copy) throw std::bad_alloc();
        std::memcpy(copy, text.c_str(), text.size() + 1);
        out = copy;
    });
}

}  // extern "C"
