// subinterp_config <-> subinterp::Config, with the struct_size checks.
#pragma once

#include "subinterp.h"
#include "subinterp/config.hpp"

namespace subinterp::capi {

// NULL means the ISOLATED preset.
Config config_from(const subinterp_config* config);
void config_to(const Config& from, subinterp_config& to);

}  // namespace subinterp::capi
