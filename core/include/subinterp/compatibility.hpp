// Which modules import under a config, and why the others do not
// (subinterp_check_imports in subinterp.h documents the report).
#pragma once

#include <string>
#include <vector>

#include "subinterp/config.hpp"
#include "subinterp/data.hpp"

namespace subinterp {

DataPtr check_imports(const Config& config, const std::vector<std::string>& modules);

}  // namespace subinterp
