// subinterp_queue_*: process-wide queues through the C ABI. Nothing here
// needs the Python runtime, except that a blocked call made from a thread
// running Python code (attach mode) releases that thread's GIL meanwhile.
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "guard.hpp"
#include "subinterp/queues.hpp"

using subinterp::DataPtr;
using subinterp::Error;
using subinterp::ErrorCode;
using subinterp::Queues;
using subinterp::UnboundPolicy;
using subinterp::capi::guarded;
using subinterp::capi::require;

static_assert(SUBINTERP_UNBOUND_DEFAULT == static_cast<int>(UnboundPolicy::QueueDefault));
static_assert(SUBINTERP_UNBOUND_REMOVE == static_cast<int>(UnboundPolicy::Remove));
static_assert(SUBINTERP_UNBOUND_ERROR == static_cast<int>(UnboundPolicy::Error));
static_assert(SUBINTERP_UNBOUND_REPLACE == static_cast<int>(UnboundPolicy::Replace));

namespace {

constexpr std::size_t kOptionsV1 = offsetof(subinterp_queue_options, unbound) + sizeof(subinterp_unbound);
constexpr std::size_t kInfoV1 = offsetof(subinterp_queue_info, closed) + sizeof(int);

// Reads the policy as the int a C caller may have stored: any value fits the
// field in C, but loading an out-of-range value as a C++ enum is undefined.
UnboundPolicy unbound_policy(const subinterp_unbound& field) {
    const int policy = subinterp::capi::enum_value(field);
    switch (policy) {
        case SUBINTERP_UNBOUND_DEFAULT:
        case SUBINTERP_UNBOUND_REMOVE:
        case SUBINTERP_UNBOUND_ERROR:
        case SUBINTERP_UNBOUND_REPLACE: return static_cast<UnboundPolicy>(policy);
    }
    throw Error(ErrorCode::InvalidArgument, "unknown unbound policy " + std::to_string(policy));
}

const subinterp::Data* core(const subinterp_data* data) { return reinterpret_cast<const subinterp::Data*>(data); }

}  // namespace

extern "C" {

subinterp_status subinterp_queue_options_init(subinterp_queue_options* opts) {
    if (!opts) return SUBINTERP_ERR_INVALID_ARGUMENT;
    *opts = subinterp_queue_options SUBINTERP_QUEUE_OPTIONS_INIT;
    return SUBINTERP_OK;
}

subinterp_status subinterp_queue_create(const subinterp_queue_options* opts, int64_t* id, subinterp_error** err) {
    return guarded(err, [&] {
        int64_t& out = require(id, "id");
        const subinterp_queue_options defaults = SUBINTERP_QUEUE_OPTIONS_INIT;
        const subinterp_queue_options& options = opts ? *opts : defaults;
        subinterp::capi::require_struct_size(options.struct_size, kOptionsV1, sizeof(subinterp_queue_options),
                                             "subinterp_queue_options");
        const subinterp::QueueHandle created =
            Queues::instance().create(options.maxsize, unbound_policy(options.unbound));
        Queues::instance().retain(created.id());  // the host's hold, outliving `created`
        out = created.id();
    });
}

subinterp_status subinterp_queue_retain(int64_t id, subinterp_error** err) {
    return guarded(err, [&] { Queues::instance().retain(id); });
}

subinterp_status subinterp_queue_release(int64_t id, subinterp_error** err) {
    return guarded(err, [&] { Queues::instance().release(id); });
}

subinterp_status subinterp_queue_destroy(int64_t id, subinterp_error** err) {
    return guarded(err, [&] { Queues::instance().destroy(id); });
}

subinterp_status subinterp_queue_close(int64_t id, subinterp_error** err) {
    return guarded(err, [&] { Queues::instance().find(id)->close(); });
}

subinterp_status subinterp_queue_put(int64_t id, const subinterp_data* item, double timeout, subinterp_error** err) {
    return guarded(err, [&] {
        DataPtr shared = DataPtr::share(&require(core(item), "item"));
        const subinterp::Timeout wait = subinterp::timeout_from_seconds(timeout);
        Queues::instance().find(id)->put(std::move(shared), wait);
    });
}

subinterp_status subinterp_queue_get(int64_t id, double timeout, subinterp_data** item, subinterp_error** err) {
    return guarded(err, [&] {
        subinterp_data*& out = require(item, "item");
        const subinterp::Timeout wait = subinterp::timeout_from_seconds(timeout);
        out = reinterpret_cast<subinterp_data*>(Queues::instance().find(id)->get(wait).release());  // NULL: unbound
    });
}

subinterp_status subinterp_queue_size(int64_t id, size_t* size, subinterp_error** err) {
    return guarded(err, [&] {
        size_t& out = require(size, "size");
        out = Queues::instance().find(id)->size();
    });
}

subinterp_status subinterp_queue_get_info(int64_t id, subinterp_queue_info* info, subinterp_error** err) {
    return guarded(err, [&] {
        subinterp_queue_info& out = require(info, "info");
        subinterp::capi::require_struct_size(out.struct_size, kInfoV1, sizeof(subinterp_queue_info),
                                             "subinterp_queue_info");
        const auto queue = Queues::instance().find(id);
        out.id = queue->id();
        out.maxsize = queue->maxsize();
        out.unbound = static_cast<subinterp_unbound>(queue->unbound_policy());
        out.size = queue->size();
        out.closed = queue->closed() ? 1 : 0;
    });
}

subinterp_status subinterp_queue_list(int64_t* ids, size_t capacity, size_t* count, subinterp_error** err) {
    return guarded(err, [&] {
        std::vector<int64_t> all;
        for (const subinterp::QueueInfo& info : Queues::instance().list()) all.push_back(info.id);
        subinterp::capi::write_ids(all, ids, capacity, count);
    });
}

}  // extern "C"
