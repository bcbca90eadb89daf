// The registry of interpreters: the one place that maps ids to interpreters,
// creates them from a Config and destroys them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "subinterp/config.hpp"
#include "subinterp/interpreter.hpp"

namespace subinterp {

class Interpreters {
public:
    explicit Interpreters(_is* main_state);
    Interpreters(const Interpreters&) = delete;
    Interpreters& operator=(const Interpreters&) = delete;

    // Validates `config`, then creates an interpreter; returns its id. A
    // pooled one belongs to a pool (pool.cpp), which alone destroys it.
    int64_t create(const Config& config, bool pooled = false);

    // Throws NotFound (unknown id), InvalidArgument (main) or Busy (running,
    // or a pool's interpreter when not `pooled`).
    void destroy(int64_t id, bool pooled = false);

    // Busy if any interpreter runs code.
    void require_idle() const;

    // Busy if any interpreter runs code, or if one not owned by a pool would
    // refuse to end (threads still running after its non-daemon ones were
    // joined). Destroys nothing.
    void require_endable() const;

    // Destroys every interpreter but main; Busy (destroying none) if
    // require_endable() is.
    void destroy_all();

    std::shared_ptr<Interpreter> find(int64_t id) const;  // throws NotFound
    std::shared_ptr<Interpreter> main() const;
    std::vector<int64_t> ids() const;  // main first, then creation order

    // Id of the interpreter the calling thread is attached to, if any.
    static std::optional<int64_t> current_id();

private:
    std::mutex creation_mutex_;  // creations one at a time (interpreters.cpp)
    mutable std::mutex mutex_;
    std::map<int64_t, std::shared_ptr<Interpreter>> by_id_;  // ids grow, so map order is creation order
};

}  // namespace subinterp
